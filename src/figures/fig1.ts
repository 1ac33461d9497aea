import { defineFigure } from './figure.js';
import { surfaceFigure } from './surfaces.js';

export default defineFigure({
  id: 'fig1',
  title: 'Figure 1',
  caption: 'Convergence of decision boundaries over epochs of training with different importance weights (top to bottom). Points are colored according to their true labels, with background shading depicting the decision surface of an MLP with a single hidden layer of size 64. The red line shows the logistic regression decision boundary. The dotted black line shows the max-margin separator.',
  experiments: ['2d'],
  spec: (data) => surfaceFigure(data, { experiment: '2d', dataset: 'linear-2d', reg: 'none', logistic: true, title: 'Figure 1' }),
});
