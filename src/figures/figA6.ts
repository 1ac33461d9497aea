import { defineFigure } from './figure.js';
import { figureSpec, finalPanel, hconcat } from './panels.js';

export default defineFigure({
  id: 'figA6',
  title: 'Figure A.6',
  caption:
    'Attempting to correct for class imbalance with importance weights. Results are shown for different sub-sampling ratios (x-axis): (a) without rebalancing via importance weighting, (b) with rebalancing via importance weighting (the class that was not sub-sampled is down-weighted by the ratio). Solid/dashed: which class was sub-sampled. Our results suggest that while class balance at training time impacts the classification ratios, IW-ERM does not.',
  experiments: ['imbalance', 'imbalance-rebalanced'],
  spec(data) {
    const common = { yTitle: 'fraction classified as dog', x: 'ratio' as const, xTitle: 'sub-sampling ratio (log2)', dash: 'subsampled', dashTitle: 'sub-sampled class' };
    return figureSpec('Figure A.6', {
      ...hconcat([
        finalPanel(data.rows('imbalance', 'final'), { ...common, title: '(a) without rebalancing via importance weighting' }),
        finalPanel(data.rows('imbalance-rebalanced', 'final'), { ...common, title: '(b) with rebalancing via importance weighting' }),
      ])
    });
  },
});
