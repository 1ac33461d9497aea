import { defineFigure } from './figure.js';
import { surfaceFigure } from './surfaces.js';

export default defineFigure({
  id: 'figA2',
  title: 'Figure A.2',
  caption: 'Results on overlapping Gaussians dataset.',
  experiments: ['2d'],
  spec: (data) => surfaceFigure(data, { experiment: '2d', dataset: 'gaussians-2d', reg: 'none', logistic: true, title: 'Figure A.2' }),
});
