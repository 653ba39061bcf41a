"""Erase staff export files when a person's memories are erased (rule: erasure reaches exports)."""

from django.dispatch import receiver

from memportal.memory.signals import memories_erased

from .services import export_files_erase_for_subject


@receiver(memories_erased)
def erase_exports_holding_erased_memories(sender, tenant, subject_id, **kwargs) -> None:
    export_files_erase_for_subject(tenant=tenant)
