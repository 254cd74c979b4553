"""Request and response bodies of the auth and admin APIs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool

from app.domain.identity.roles import HolderKind, Office, roles_for
from app.domain.identity.users import MIN_PASSWORD_LENGTH
from app.schemas.common import Name, RequestModel

Password = Annotated[str, Field(min_length=MIN_PASSWORD_LENGTH, max_length=256)]


def _email_address(value: str) -> str:
    """The address as email-validator normalizes it, with the `.test` domain allowed.

    pydantic's EmailStr refuses `.test` addresses (which the contract's `format: email` admits
    and test and staging systems use) and accepts `Name <address>`, which the contract does not.
    Other special-use domains (`.local`, `.invalid`, ...) are still refused.
    """
    try:
        return validate_email(value, check_deliverability=False, test_environment=True).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid e-mail address: {exc}") from exc


Email = Annotated[
    str,
    Field(max_length=254, json_schema_extra={"format": "email"}),
    AfterValidator(_email_address),
]
UserRoleName = Annotated[str, Field(json_schema_extra={"enum": roles_for(HolderKind.user)})]
ClientRoleName = Annotated[str, Field(json_schema_extra={"enum": roles_for(HolderKind.client)})]


class UserCreate(RequestModel):
    id: uuid.UUID | None = Field(default=None, description="Client-supplied id (optional)")
    email: Email
    display_name: Name
    password: Password
    roles: list[UserRoleName] = Field(max_length=20)
    is_active: StrictBool = True


class UserUpdate(RequestModel):
    display_name: Name | None = None
    is_active: StrictBool | None = None
    roles: list[UserRoleName] | None = Field(default=None, max_length=20)


class PasswordSet(RequestModel):
    password: Password


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    display_name: str
    is_active: bool
    roles: list[str]
    employee_id: uuid.UUID | None
    version: int
    created_at: datetime
    updated_at: datetime


class ClientCreate(RequestModel):
    id: uuid.UUID | None = Field(default=None, description="Client-supplied id (optional)")
    name: Name
    role: ClientRoleName


class ClientUpdate(RequestModel):
    name: Name | None = None
    role: ClientRoleName | None = None
    is_active: StrictBool | None = None


class ClientRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="Also the `client_id` for the client-credentials grant")
    name: str
    role: str
    is_active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class ClientWithSecret(ClientRead):
    client_secret: str = Field(description="Shown once; store it now, it cannot be read again")


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a token type, not a secret)
    expires_in: int
    refresh_token: str | None = None


class LogoutRequest(RequestModel):
    refresh_token: Annotated[str, Field(min_length=1, max_length=512)]


class Me(BaseModel):
    subject: str
    kind: Literal["user", "client"]
    id: uuid.UUID
    name: str
    roles: list[str]
    permissions: list[str]


class PermissionRead(BaseModel):
    name: str
    office: Office
    description: str


class RoleRead(BaseModel):
    name: str
    office: Office
    holder: HolderKind
    description: str
    permissions: list[str]


class RoleMatrix(BaseModel):
    roles: list[RoleRead]
    permissions: list[PermissionRead]
