import { defineFigure } from './figure.js';
import { epochPanel, figureSpec, finalPanel, secondClass, hconcat } from './panels.js';

export default defineFigure({
  id: 'fig6',
  title: 'Figure 6',
  caption:
    'Relationship between early stopping and importance weighting on MRPC dataset. We plot the fraction of sentence pairs in the test set, classified as paraphrases (y-axis) vs training epochs (x-axis) with different importance weights. (Right: the same at the last epoch vs the weight.)',
  experiments: ['mrpc'],
  spec(data) {
    const cls = secondClass(data.rows('mrpc', 'runs'), 'paraphrase');
    return figureSpec('Figure 6', {
      ...hconcat([
        epochPanel(data.rows('mrpc', 'curves'), { title: 'MRPC test set', evalSet: 'test', yTitle: `fraction classified as ${cls}` }),
        finalPanel(data.rows('mrpc', 'final'), { title: 'at the last epoch', yTitle: `fraction classified as ${cls}`, evalSets: ['test'] }),
      ])
    });
  },
});
