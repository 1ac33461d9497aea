import { defineFigure } from './figure.js';
import { surfaceFigure } from './surfaces.js';

export default defineFigure({
  id: 'fig2',
  title: 'Figure 2',
  caption: 'Same scenario as Figure 1, except both logistic regression and MLP are trained with L2 regularization.',
  experiments: ['2d'],
  spec: (data) => surfaceFigure(data, { experiment: '2d', dataset: 'linear-2d', reg: 'l2', logistic: true, title: 'Figure 2' }),
});
