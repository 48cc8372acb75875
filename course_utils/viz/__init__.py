"""Pictures for both frameworks: image grids, filters, feature maps, mistakes, accuracy.

Every function takes numpy arrays or a PyTorch / Keras model and returns the matplotlib
Figure it drew (or a DataFrame for tables).
"""

from course_utils.viz.feature_maps import plot_feature_maps
from course_utils.viz.filters import plot_filters
from course_utils.viz.images import image_grid, plot_misclassified
from course_utils.viz.metrics import confusion_matrix, per_class_accuracy, plot_confusion_matrix

__all__ = [
    "confusion_matrix",
    "image_grid",
    "per_class_accuracy",
    "plot_confusion_matrix",
    "plot_feature_maps",
    "plot_filters",
    "plot_misclassified",
]
