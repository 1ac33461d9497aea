import { defineFigure } from './figure.js';
import { earlyStoppingRow, figureSpec, finalPanel, secondClass, hconcat } from './panels.js';

export default defineFigure({
  id: 'figA8',
  title: 'Figure A.8',
  caption: 'Results for training on automobile and truck classes from CIFAR10. Same setup as 4, but without standard deviations over multiple runs: (a) car and truck test images, (b) test images from non-car/truck classes, (c) random images, (d) classification ratios after training on car/truck images.',
  experiments: ['autotruck'],
  spec(data) {
    const cls = secondClass(data.rows('autotruck', 'runs'), 'truck');
    const panels = earlyStoppingRow(data.rows('autotruck', 'curves'), cls, ['a', 'b', 'c'], ['CIFAR10 car and truck test images', 'test images from non-car/truck classes', 'random images']);
    panels.push(finalPanel(data.rows('autotruck', 'final'), { title: '(d) classification ratios at the last epoch', yTitle: `fraction classified as ${cls}` }));
    return figureSpec('Figure A.8', hconcat(panels));
  },
});
