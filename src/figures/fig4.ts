import { defineFigure } from './figure.js';
import { earlyStoppingRow, figureSpec, finalPanel, secondClass, hconcat, vconcat } from './panels.js';

export default defineFigure({
  id: 'fig4',
  title: 'Figure 4',
  caption:
    '(a-c) Relationship between early stopping and importance weighting. We plot the fraction of images in the test set (a), other 8 classes (b), and random vectors (c), classified as dogs (y-axis) vs training epochs (x-axis). (d-f) Fraction of examples classified as dogs (y-axis) vs importance weights (x-axis) after the last epoch of training. We also show results from models trained with L2 regularization (e) and dropout (f). In all plots error bands show standard deviation across random initializations, and lines represent means.',
  experiments: ['catdog', 'catdog-l2', 'catdog-dropout'],
  spec(data) {
    const cls = secondClass(data.rows('catdog', 'runs'), 'dog');
    const y = `fraction classified as ${cls}`;
    return figureSpec('Figure 4', {
      ...vconcat([
        hconcat(earlyStoppingRow(data.rows('catdog', 'curves'), cls)),
        {
          ...hconcat([
            finalPanel(data.rows('catdog', 'final'), { title: '(d) classification ratios at the last epoch', yTitle: y }),
            finalPanel(data.rows('catdog-l2', 'final'), { title: '(e) with L2 regularization on weights', yTitle: y }),
            finalPanel(data.rows('catdog-dropout', 'final'), { title: '(f) with dropout', yTitle: y }),
          ])
        },
      ])
    });
  },
});
