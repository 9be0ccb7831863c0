"""Classification methods that are not neural networks (peers and baselines beside the models).

- `template_match`: a PyHammer-like chi-squared template matcher over empirical templates
  (the Kesseli et al. 2017 set by default); see docs/template_match.md.
"""

from .template_match import TemplateMatch, TemplateMatcher, kesseli_folder

__all__ = ["TemplateMatch", "TemplateMatcher", "kesseli_folder"]
