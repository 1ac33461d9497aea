import { defineFigure } from './figure.js';
import { earlyStoppingRow, figureSpec, secondClass, hconcat } from './panels.js';

export default defineFigure({
  id: 'figA4',
  title: 'Figure A.4',
  caption: 'Effect of early stopping on models with dropout: (a) CIFAR10 cat and dog test images, (b) CIFAR10 test images from the other eight classes, (c) random images.',
  experiments: ['catdog-dropout'],
  spec(data) {
    const cls = secondClass(data.rows('catdog-dropout', 'runs'), 'dog');
    const panels = earlyStoppingRow(data.rows('catdog-dropout', 'curves'), cls);
    return figureSpec('Figure A.4', hconcat(panels));
  },
});
