"""Per-person and per-tenant data versions (memportal.memory.versions owns every read and write)."""

from django.db import models


class DataVersion(models.Model):
    """A random token that changes, in the writing transaction, whenever a person's memories change.

    ``key`` is ``p:<subject id>`` (one person) or ``t:<tenant pk>`` (everyone in a tenant). No memory
    text; the person rows go when the person's membership ends (erasure.DataVersions).
    """

    key = models.CharField(primary_key=True, max_length=64)
    token = models.UUIDField()

    class Meta:
        db_table = "memportal_data_version"

    def __str__(self) -> str:
        return self.key
