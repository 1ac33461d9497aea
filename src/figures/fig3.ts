import { defineFigure } from './figure.js';
import { surfaceFigure } from './surfaces.js';

export default defineFigure({
  id: 'fig3',
  title: 'Figure 3',
  caption: 'Same scenario as Figures 1 and 2, except the MLP is trained with dropout (no logistic regression model shown).',
  experiments: ['2d'],
  spec: (data) => surfaceFigure(data, { experiment: '2d', dataset: 'linear-2d', reg: 'dropout', logistic: false, title: 'Figure 3' }),
});
