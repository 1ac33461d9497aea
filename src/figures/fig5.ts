import { defineFigure } from './figure.js';
import { epochPanel, figureSpec, hconcat } from './panels.js';

export default defineFigure({
  id: 'fig5',
  title: 'Figure 5',
  caption:
    "Effect of early stopping on test label shift correction for multiclass CIFAR-10. For each value of rho, we weight one class's contributions to the loss function and test accuracy by rho, and the other nine classes by (1-rho)/9. We plot the relationship between the weighted test accuracy (y-axis) vs training epochs (x-axis). Lines and errors show the means and standard deviations over the CIFAR-10 classes (each class in turn the weighted one) respectively.",
  experiments: ['multiclass'],
  spec(data) {
    const curves = data.rows('multiclass', 'curves');
    return figureSpec('Figure 5', {
      ...hconcat([
        epochPanel(curves, { title: 'weighted test accuracy', evalSet: 'test', metric: 'weighted_accuracy', yTitle: 'weighted test accuracy', series: 'rho', seriesTitle: 'ρ (weight of the focus class)' }),
        epochPanel(curves, { title: 'fraction of test images classified as the focus class', evalSet: 'test', metric: 'frac_second', yTitle: 'fraction classified as focus class', series: 'rho', seriesTitle: 'ρ', yDomain: [0, 0.5] }),
      ])
    });
  },
});
