"""Views over ``Model``: the ``%%model`` magics, the widget panel and the static display it leaves."""
