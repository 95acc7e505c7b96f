"""Roles as groups with model permissions. Which study a member sees is decided per object
(owner or membership); these groups decide what a member may do there."""

from __future__ import annotations

RESEARCHER = "Researcher"
ANALYST = "Analyst"

DESIGN_MODELS = (
    "study",
    "sample",
    "consenttext",
    "studymembership",
    "questionnaireversion",
    "section",
    "question",
    "choicelist",
    "choice",
)

ROLE_PERMISSIONS: dict[str, list[str]] = {
    RESEARCHER: [
        f"{action}_{model}" for model in DESIGN_MODELS for action in ("add", "change", "delete", "view")
    ],
    ANALYST: [f"view_{model}" for model in DESIGN_MODELS],
}


def sync_roles(group_model, permission_model) -> None:
    """Create the role groups and give them exactly their permissions (idempotent)."""
    for name, codenames in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=name)
        permissions = permission_model.objects.filter(
            content_type__app_label="survey", codename__in=codenames
        )
        group.permissions.set(permissions)
