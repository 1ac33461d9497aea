import { defineFigure } from './figure.js';
import { earlyStoppingRow, figureSpec, secondClass, hconcat } from './panels.js';

export default defineFigure({
  id: 'figA3',
  title: 'Figure A.3',
  caption: 'Effect of early stopping on L2 regularized models. Plots are structured as in Figure 4: (a) CIFAR10 cat and dog test images, (b) CIFAR10 test images from the other eight classes, (c) random images.',
  experiments: ['catdog-l2'],
  spec(data) {
    const cls = secondClass(data.rows('catdog-l2', 'runs'), 'dog');
    const panels = earlyStoppingRow(data.rows('catdog-l2', 'curves'), cls);
    return figureSpec('Figure A.3', hconcat(panels));
  },
});
