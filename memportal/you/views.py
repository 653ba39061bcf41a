from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from memportal.memory import selectors
from memportal.memory.tenancy import access_membership_for_user


@login_required
def memory_list(request: HttpRequest) -> HttpResponse:
    member = access_membership_for_user(user=request.user)
    page = selectors.memory_list(member=member)
    return render(request, "you/list.html", {"member": member, "page": page})
