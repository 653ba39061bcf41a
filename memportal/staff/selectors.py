"""Reads for staff pages: who may audit which tenant, the access log, export jobs."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404

from memportal.memory.models import Membership, Tenant

from .models import AccessRecord, ExportJob


def access_records_for_member(*, member: Membership) -> QuerySet[AccessRecord]:
    """The staff looks that touched this person's memories, newest first (for 'Who looked')."""
    return AccessRecord.objects.filter(tenant=member.tenant, subject_ids__contains=[member.subject_id])


def tenants_for_staff(*, user: AbstractBaseUser) -> QuerySet[Tenant]:
    """Tenants the user may audit: all for superusers, else those where they are active staff."""
    if not user.is_authenticated:
        return Tenant.objects.none()
    if user.is_superuser:
        return Tenant.objects.all()
    return Tenant.objects.filter(
        memberships__user=user, memberships__role=Membership.Role.STAFF, memberships__ended_at__isnull=True
    ).distinct()


def access_staff_required(*, user: AbstractBaseUser) -> None:
    """403 for anyone who is staff of no tenant at all (members, strangers)."""
    if not tenants_for_staff(user=user).exists():
        raise PermissionDenied("Staff only.")


def access_tenant_for_staff(*, user: AbstractBaseUser, slug: Any) -> Tenant:
    """The tenant a staff URL names, if this user may audit it.

    Missing and forbidden answer the same 404 (Zulip's access_* pattern), so staff of one tenant
    cannot even learn another tenant's slug exists. Non-staff get 403 before the lookup.
    """
    access_staff_required(user=user)
    if not isinstance(slug, str):
        raise Http404()
    tenant = tenants_for_staff(user=user).filter(slug=slug).first()
    if tenant is None:
        raise Http404()
    return tenant


def access_export_job(*, user: AbstractBaseUser, tenant: Tenant, job_id: Any) -> ExportJob:
    """An export job of this tenant requested by this user (superusers: any); else 404."""
    jobs = ExportJob.objects.filter(tenant=tenant)
    if not user.is_superuser:
        jobs = jobs.filter(requested_by=user)
    try:
        job = jobs.filter(pk=job_id).first()
    except (ValidationError, ValueError) as exc:  # a malformed uuid is the same 404 as a missing one
        raise Http404() from exc
    if job is None:
        raise Http404()
    return job


def export_jobs_for_tenant(*, user: AbstractBaseUser, tenant: Tenant) -> QuerySet[ExportJob]:
    jobs = ExportJob.objects.filter(tenant=tenant)
    return jobs if user.is_superuser else jobs.filter(requested_by=user)
