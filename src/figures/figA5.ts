import { defineFigure } from './figure.js';
import { epochPanel, figureSpec, finalPanel, secondClass, hconcat, vconcat } from './panels.js';

export default defineFigure({
  id: 'figA5',
  title: 'Figure A.5',
  caption:
    'Relationship between early stopping and importance weighting (a,b), and final classification ratios vs. importance weighting (c,d) for ResNet models on CIFAR with and without batch normalization. Plots are structured as in Figure 4 (a, b: cat and dog test images).',
  experiments: ['resnet-bn', 'resnet-nobn'],
  spec(data) {
    const cls = secondClass(data.rows('resnet-bn', 'runs'), secondClass(data.rows('resnet-nobn', 'runs'), 'dog'));
    const y = `fraction classified as ${cls}`;
    return figureSpec('Figure A.5', {
      ...vconcat([
        {
          ...hconcat([
            epochPanel(data.rows('resnet-bn', 'curves'), { title: '(a) ResNet with batchnorm', evalSet: 'test', yTitle: y }),
            epochPanel(data.rows('resnet-nobn', 'curves'), { title: '(b) ResNet without batchnorm', evalSet: 'test', yTitle: y }),
          ])
        },
        {
          ...hconcat([
            finalPanel(data.rows('resnet-bn', 'final'), { title: '(c) ResNet with batchnorm', yTitle: y }),
            finalPanel(data.rows('resnet-nobn', 'final'), { title: '(d) ResNet without batchnorm', yTitle: y }),
          ])
        },
      ])
    });
  },
});
