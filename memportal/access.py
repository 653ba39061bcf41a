"""The access policy: every lookup of a protected object by an actor, and every grant rule.

Zulip's ``access_*`` pattern: each function looks the object up *inside what the actor may
reach* and raises ``NotFound`` (a 404) alike for a missing object and for someone else's, so no
answer tells an actor that a foreign object exists. Role refusals that reveal nothing (a member
opening the staff area) raise ``Forbidden`` (a 403). ``write=True`` variants add the rules for
changing the object. Views, API handlers, jobs and commands call these and decide nothing
themselves; ``tests/attack`` drives every route against them.

Actors: a signed-in person (``request.user``), tenant staff (a staff membership), a superuser,
an app key (``AppKey``, confined to its tenant and to the people its app has named), and the
holder of a portal link.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from memportal.memory.errors import MembershipEnded, MemoryPaused, ReadsStopped
from memportal.memory.models import ErasureReceipt, Membership, Tenant
from memportal.memory.versions import memberships_with_data_version

if TYPE_CHECKING:
    from memportal.agents.models import AppKey, PortalToken, TenantDeleteJob, Webhook, WebhookDelivery
    from memportal.offboarding.models import OffboardingJob
    from memportal.staff.models import ExportJob, TenantAuditReport


class NotFound(Http404):
    """Missing, malformed, or not the actor's: callers cannot tell which."""


class Forbidden(PermissionDenied):
    """The actor's role may never do this (it reveals nothing about any object)."""


def _uuid(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        raise NotFound() from None


def _authenticated(user: AbstractBaseUser | None) -> bool:
    return user is not None and bool(user.is_authenticated)


# --- people -----------------------------------------------------------------------------------------
def person_memberships(*, user: AbstractBaseUser) -> list[Membership]:
    """The signed-in person's active memberships, oldest first. Never creates one: nobody is
    joined to a tenant by visiting a page (only by signing up or an explicit action)."""
    if not _authenticated(user):
        return []
    return list(
        Membership.objects.filter(user=user, ended_at__isnull=True, tenant__offboarded_at__isnull=True)
        .select_related("tenant").order_by("created_at", "pk")
    )


def person_membership_pick(*, members: list[Membership], tenant_slug: Any) -> Membership | None:
    """The membership a browser request acts as: the one the session chose among the person's
    own, else their first. ``tenant_slug`` only ever selects among ``members``."""
    for member in members:
        if member.tenant.slug == tenant_slug:
            return member
    return members[0] if members else None


def person_membership_choose(*, members: list[Membership], tenant_slug: Any) -> Membership:
    """The app switcher: only one of the person's own memberships; anything else is NotFound."""
    for member in members:
        if member.tenant.slug == tenant_slug:
            return member
    raise NotFound()


def person_may_join_sign_up_tenant(*, user: AbstractBaseUser, ended: list[Membership]) -> bool:
    """The welcome page's explicit "start keeping memories" action: a password account (not a
    portal-only person), not a superuser, and not back into the sign-up tenant they already left."""
    from django.conf import settings

    if not _authenticated(user) or user.is_superuser or not user.has_usable_password():
        return False
    return not any(m.tenant.slug == settings.MEMPORTAL["DEFAULT_TENANT"] for m in ended)


def person_memberships_all(*, user: AbstractBaseUser) -> list[Membership]:
    """All the person's memberships, active and ended (account erased there, or tenant offboarded)."""
    if not _authenticated(user):
        return []
    # Membership.objects.filter(user=user).select_related("tenant").order_by("created_at", "pk"), plus
    # each one's data version (the key of the person's cached pages), in one statement: this runs on
    # every signed-in request (memory/versions.py).
    return memberships_with_data_version(user_id=user.pk)


def access_receipt(*, user: AbstractBaseUser, receipt_id: Any) -> ErasureReceipt:
    """One of the person's own erasure receipts (of an active or an ended membership, including
    their tenant's offboarding receipt); superusers: any. Else NotFound."""
    rid = _uuid(receipt_id)
    if not _authenticated(user):
        raise NotFound()
    if user.is_superuser:  # admins hold the receipts of the offboardings they ran
        found = ErasureReceipt.objects.filter(pk=rid).select_related("tenant").first()
        if found is None:
            raise NotFound()
        return found
    receipt = (
        ErasureReceipt.objects.filter(pk=rid, membership__user=user).select_related("tenant").first()
        or ErasureReceipt.objects.filter(
            pk=rid, kind=ErasureReceipt.Kind.TENANT, tenant__memberships__user=user
        ).select_related("tenant").first()
    )
    if receipt is None:
        raise NotFound()
    return receipt


def access_receipt_for_key(*, key: AppKey, receipt_id: Any) -> ErasureReceipt:
    """A receipt of the key's tenant (its event feed shows erasures), else NotFound."""
    receipt = ErasureReceipt.objects.filter(pk=_uuid(receipt_id), tenant_id=key.tenant_id).select_related(
        "membership").first()
    if receipt is None:
        raise NotFound()
    return receipt


def receipts_for_anonymous_session(*, receipt_ids: Any) -> list[ErasureReceipt]:
    """Receipts of an account deleted in this browser session (ids the deletion itself stored)."""
    ids = [str(_uuid(r)) for r in receipt_ids] if isinstance(receipt_ids, list) else []
    return list(ErasureReceipt.objects.filter(pk__in=ids, kind=ErasureReceipt.Kind.ACCOUNT).select_related("tenant"))


# --- staff ------------------------------------------------------------------------------------------
def staff_tenants(*, user: AbstractBaseUser) -> QuerySet[Tenant]:
    """Tenants the user may audit and manage keys of: superusers all live ones; else where they are
    active staff. Offboarded tenants are no one's to audit (their receipts stay with admins)."""
    if not _authenticated(user):
        return Tenant.objects.none()
    live = Tenant.objects.filter(offboarded_at__isnull=True)
    if user.is_superuser:
        return live
    return live.filter(
        memberships__user=user, memberships__role=Membership.Role.STAFF, memberships__ended_at__isnull=True
    ).distinct()


def access_staff_area(*, user: AbstractBaseUser) -> None:
    """403 for anyone who is staff of no tenant at all (members, strangers)."""
    if not staff_tenants(user=user).exists():
        raise Forbidden("Staff only.")


def access_tenant_for_staff(*, user: AbstractBaseUser, slug: Any) -> Tenant:
    access_staff_area(user=user)
    if not isinstance(slug, str):
        raise NotFound()
    tenant = staff_tenants(user=user).filter(slug=slug).first()
    if tenant is None:
        raise NotFound()
    return tenant


def access_export_job(*, user: AbstractBaseUser, tenant: Tenant, job_id: Any) -> ExportJob:
    """An export job of this tenant requested by this user (superusers: any); else NotFound."""
    job = export_jobs_visible(user=user, tenant=tenant).filter(pk=_uuid(job_id)).first()
    if job is None:
        raise NotFound()
    return job


def export_jobs_visible(*, user: AbstractBaseUser, tenant: Tenant) -> QuerySet[ExportJob]:
    from memportal.staff.models import ExportJob

    jobs = ExportJob.objects.filter(tenant=tenant)
    return jobs if user.is_superuser else jobs.filter(requested_by=user)


def audit_reports_visible(*, user: AbstractBaseUser, tenant: Tenant) -> QuerySet[TenantAuditReport]:
    """The tenant's stored audit reports, for anyone who may audit the tenant (its staff, superusers)."""
    from memportal.staff.models import TenantAuditReport

    if not staff_tenants(user=user).filter(pk=tenant.pk).exists():
        return TenantAuditReport.objects.none()
    return TenantAuditReport.objects.filter(tenant=tenant)


def webhook_deliveries_visible(*, user: AbstractBaseUser, tenant: Tenant) -> QuerySet[WebhookDelivery]:
    """The tenant's webhook deliveries (and, through them, their attempts), for anyone who may audit
    the tenant (its staff, superusers); nothing for anyone else."""
    from memportal.agents.models import WebhookDelivery

    if not staff_tenants(user=user).filter(pk=tenant.pk).exists():
        return WebhookDelivery.objects.none()
    return WebhookDelivery.objects.filter(tenant=tenant)


def access_audit_report(*, user: AbstractBaseUser, tenant: Tenant, report_id: Any) -> TenantAuditReport:
    """One stored audit report of this tenant, for its staff (superusers: any live tenant's); else NotFound."""
    report = audit_reports_visible(user=user, tenant=tenant).filter(pk=_uuid(report_id)).first()
    if report is None:
        raise NotFound()
    return report


def access_app_key(*, user: AbstractBaseUser, key_id: Any, write: bool = False) -> AppKey:
    """A key of a tenant the user manages; revoking a tenant-admin key is for superusers only."""
    from memportal.agents.models import AppKey

    if isinstance(key_id, bool) or not str(key_id).isdigit():
        raise NotFound()
    key = AppKey.objects.filter(pk=int(key_id), tenant__in=staff_tenants(user=user)).select_related("tenant").first()
    if key is None:
        raise NotFound()
    if write and key.can_admin and not user.is_superuser:
        raise Forbidden("Only a superuser can change a tenant-admin key.")
    return key


def key_grant_check(*, creator: AbstractBaseUser | None, permissions: set[str]) -> None:
    """Who may grant what: read and write by anyone allowed to make keys for the tenant (its staff,
    checked by access_tenant_for_staff; the command line); tenant_admin only by a superuser."""
    if "tenant_admin" in permissions and not (_authenticated(creator) and creator.is_superuser):
        raise Forbidden("Only a superuser can create a key with tenant-admin power.")


# --- superusers -------------------------------------------------------------------------------------
def access_superuser(*, user: AbstractBaseUser) -> None:
    if not (_authenticated(user) and user.is_superuser):
        raise Forbidden("Only superusers can offboard a tenant.")


def access_tenant_for_offboarding(*, user: AbstractBaseUser, slug: Any) -> Tenant:
    access_superuser(user=user)
    tenant = Tenant.objects.filter(slug=slug).first() if isinstance(slug, str) else None
    if tenant is None:
        raise NotFound()
    return tenant


def access_offboarding_job(*, user: AbstractBaseUser, job_id: Any) -> OffboardingJob:
    from memportal.offboarding.models import OffboardingJob

    access_superuser(user=user)
    job = OffboardingJob.objects.select_related("tenant", "requested_by").filter(pk=_uuid(job_id)).first()
    if job is None:
        raise NotFound()
    return job


# --- app keys ---------------------------------------------------------------------------------------
KEY_PERMISSIONS = ("read", "write", "tenant_admin")


def access_key_for_secret(*, raw: Any) -> AppKey | None:
    """The key a request authenticates with: known, matching, not revoked, not expired, and of a
    tenant that has not been offboarded. None otherwise (the API answers 401 alike)."""
    from memportal.agents.selectors import appkey_lookup

    key = appkey_lookup(raw=raw if isinstance(raw, str) else "")
    if key is None or not key.is_active or key.tenant.offboarded_at is not None:
        return None
    return key


def key_may(*, key: AppKey, permission: str) -> bool:
    """What a key may do now. Tenant-admin power holds only while the key's creator is a superuser:
    a key made (or kept) by anyone else never erases a tenant."""
    if permission == "read":
        return key.can_read
    if permission == "write":
        return key.can_write
    if permission == "webhooks":
        # Registering where the tenant's events go: a key that may both read and write (a
        # webhook hears of every change); read-only and write-only keys may not.
        return key.can_read and key.can_write
    if permission == "tenant_admin":
        creator = key.created_by
        return key.can_admin and creator is not None and creator.is_active and creator.is_superuser
    return False


def access_key_offboarding(*, key: AppKey, confirm: Any) -> Tenant:
    """Offboarding through the API: a tenant-admin key made by a superuser, and the request must
    repeat the tenant's app_id in ``confirm_app_id`` (an explicit confirmation, not a default)."""
    if not key_may(key=key, permission="tenant_admin"):
        raise Forbidden("Offboarding needs a tenant-admin key created by a superuser.")
    if confirm != key.tenant.slug:
        raise Forbidden(f"To erase the whole tenant, repeat its app_id: confirm_app_id={key.tenant.slug}.")
    return key.tenant


# --- a person's per-app controls ---------------------------------------------------------------------
#: What a request does with the person it names: "read" (list, search, get, history, export),
#: "write" (add, correct, feedback) or None (erasure: always allowed, it is what the person wants).
READ, WRITE = "read", "write"


def member_intent_check(*, member: Membership, intent: str | None) -> Membership:
    """The person's controls for one app (one membership), the single rule every app surface uses.

    "Stop this app from remembering me" (``memory_paused``, GDPR Art. 21) refuses writes;
    "stop this app from reading my memories" (``reads_stopped``, Art. 18 restriction) refuses
    reads. Both are ``MemoryLocked`` (the API answers 423 with a JSON detail). Erasure is never
    refused. Reads that name nobody are filtered in SQL by ``key_read_member_condition``.
    """
    if intent == READ and member.reads_stopped:
        raise ReadsStopped()
    if intent == WRITE and member.memory_paused:
        raise MemoryPaused()
    return member


def key_read_member_condition() -> str:
    """SQL over ``memory_membership`` for reads that name no person (``user_id: "*"``, an agent or
    a session only, entity lists, exports): people who stopped the app reading are left out, so no
    read path returns their memories. Used by ``memory.api_selectors`` and the entity list."""
    return "reads_stopped = FALSE"


def access_member_for_key(
    *, key: AppKey, external_id: Any, create: bool, intent: str | None = None
) -> Membership | None:
    """The person an app means by its own ``user_id``, inside the key's tenant only.

    ``intent`` applies the person's controls for this app (``member_intent_check``): a read naming
    a person who stopped the app reading, or a write for one who stopped it remembering, is 423.

    None (the caller answers "not found") when unknown and ``create`` is false. A person who
    erased their data here (their id survives only as a keyed hash) is MembershipEnded (410) for
    reads, writes and exports alike: the app cannot silently start a new record about them, nor
    store their id again in a request.
    """
    from memportal.erasure import external_id_hash
    from memportal.memory.tenancy import membership_for_external

    if key.tenant.offboarded_at is not None:
        raise MembershipEnded()
    member = membership_for_external(tenant=key.tenant, external_id=external_id, create=False)
    if member is not None:
        return member_intent_check(member=member, intent=intent)
    # Reads and exports too: a request naming an erased person is answered 410 and stores nothing
    # (an export request would otherwise keep their id in clear).
    if Membership.objects.filter(
        tenant=key.tenant, external_id_hash=external_id_hash(app_id=key.tenant.slug, external_id=str(external_id))
    ).exists():
        raise MembershipEnded()
    return membership_for_external(tenant=key.tenant, external_id=external_id, create=True) if create else None


def access_delete_job_for_key(*, key: AppKey, job_id: Any) -> TenantDeleteJob:
    """A tenant-wide delete job of the key's tenant (any of its keys may follow it); else NotFound."""
    from memportal.agents.models import TenantDeleteJob

    job = TenantDeleteJob.objects.filter(pk=_uuid(job_id), tenant_id=key.tenant_id).first()
    if job is None:
        raise NotFound()
    return job


def access_webhooks_project_for_key(*, key: AppKey, project_id: Any) -> Tenant:
    """The platform's project id of webhooks paths is the key's tenant's app_id; any other is NotFound."""
    if project_id != key.tenant.slug:
        raise NotFound()
    return key.tenant


def access_webhook_for_key(*, key: AppKey, webhook_id: Any, manage: bool = False) -> Webhook:
    """A live webhook of the key's tenant; NotFound alike for malformed, missing, deleted and other
    tenants' ids. ``manage`` (update, delete): Forbidden unless the key may manage webhooks,
    checked first, so a key that may not manage learns nothing about which ids exist."""
    from memportal.agents.models import Webhook

    if manage and not key_may(key=key, permission="webhooks"):
        raise Forbidden("Managing webhooks needs a key with both read and write permission.")
    if isinstance(webhook_id, bool) or not str(webhook_id).isdigit() or len(str(webhook_id)) > 18:
        raise NotFound()
    webhook = Webhook.objects.filter(pk=int(webhook_id), tenant_id=key.tenant_id, deleted_at__isnull=True
                                     ).select_related("tenant").first()
    if webhook is None:
        raise NotFound()
    return webhook


def access_memory_for_key(*, key: AppKey, memory_id: Any, intent: str | None = None) -> Membership:
    """The owner (a person the app has named, in the key's tenant) of a memory; MemoryNotFound
    alike for a malformed, missing, foreign-tenant or browser-only person's memory. ``intent``:
    the owner's controls, as ``access_member_for_key``."""
    from memportal.memory.api_selectors import memory_owner

    return member_intent_check(member=memory_owner(tenant=key.tenant, memory_id=memory_id), intent=intent)


# --- portal links -----------------------------------------------------------------------------------
def access_portal_link(*, raw: Any, lock: bool = False) -> PortalToken:
    """A portal link that can still sign its person in: unused, unexpired, made by a key that is
    still active (revoking the key kills its links), for a membership that has not ended."""
    from memportal.agents.models import PortalToken, token_hash

    if not isinstance(raw, str) or not 20 <= len(raw) <= 100:
        raise NotFound()
    tokens = PortalToken.objects.select_related("membership__tenant", "app_key__tenant")
    if lock:
        tokens = tokens.select_for_update(of=("self",))
    token = tokens.filter(token_hash=token_hash(raw), used_at__isnull=True, expires_at__gt=timezone.now()).first()
    if token is None or token.app_key is None or not token.app_key.is_active:
        raise NotFound()
    member = token.membership
    if (member.ended_at is not None or member.tenant.offboarded_at is not None
            or member.tenant_id != token.app_key.tenant_id):
        raise NotFound()
    return token
