import { defineFigure } from './figure.js';
import { earlyStoppingRow, figureSpec, finalPanel, secondClass, hconcat, vconcat } from './panels.js';

export default defineFigure({
  id: 'figA7',
  title: 'Figure A.7',
  caption:
    'Classification ratios vs importance weights on CIFAR10 where the labels of 5% of each class in the training set are flipped. This experiment shows that even when the true classes are inseparable, importance weighting has surprisingly little effect so long as the neural network can separate the training data. (Top: the same runs over epochs.)',
  experiments: ['labelnoise'],
  spec(data) {
    const cls = secondClass(data.rows('labelnoise', 'runs'), 'dog');
    return figureSpec('Figure A.7', {
      ...vconcat([
        finalPanel(data.rows('labelnoise', 'final'), { title: 'classification ratios at the last epoch', yTitle: `fraction classified as ${cls}` }),
        hconcat(earlyStoppingRow(data.rows('labelnoise', 'curves'), cls)),
      ])
    });
  },
});
