import { defineFigure } from './figure.js';
import { surfaceFigure } from './surfaces.js';

export default defineFigure({
  id: 'figA1',
  title: 'Figure A.1',
  caption: 'Results on non linearly-separable moons dataset.',
  experiments: ['2d'],
  spec: (data) => surfaceFigure(data, { experiment: '2d', dataset: 'moons-2d', reg: 'none', logistic: true, title: 'Figure A.1' }),
});
