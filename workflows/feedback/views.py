"""The public feedback pages: being built (issue 8)."""

from django.http import Http404


def answer_open(request, slug):
    raise Http404


def answer_personal(request, slug, token):
    raise Http404


def thanks(request, slug):
    raise Http404
