import { defineFigure } from './figure.js';
import { earlyStoppingRow, figureSpec, finalPanel, secondClass, hconcat } from './panels.js';

export default defineFigure({
  id: 'figA9',
  title: 'Figure A.9',
  caption: 'Results from training a convolutional network with the Adam optimizer with learning rate 1e-4, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8. The setup and all other model hyperparameters are the same as in 4, but without standard deviations over multiple runs: (a) cat and dog test images, (b) non-cat/dog test images, (c) random images, (d) classification ratios after training.',
  experiments: ['adam'],
  spec(data) {
    const cls = secondClass(data.rows('adam', 'runs'), 'dog');
    const panels = earlyStoppingRow(data.rows('adam', 'curves'), cls);
    panels.push(finalPanel(data.rows('adam', 'final'), { title: '(d) classification ratios at the last epoch', yTitle: `fraction classified as ${cls}` }));
    return figureSpec('Figure A.9', hconcat(panels));
  },
});
