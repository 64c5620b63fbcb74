"""Database tables: outgoing connections and security definitions.

Every setting of ``config.OutconnConfig`` and ``config.SecurityConfig`` is a typed column of the
same name; defaults live in the config classes only, and the store always writes every column.
Plain HTTP and SOAP connections share one table, told apart by ``transport``.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    # Named constraints, so that migrations can refer to them on every database.
    metadata = MetaData(naming_convention={
        'ix': 'ix_%(table_name)s_%(column_0_name)s',
        'uq': 'uq_%(table_name)s_%(column_0_N_name)s',
        'fk': 'fk_%(table_name)s_%(column_0_name)s',
        'pk': 'pk_%(table_name)s',
    })


class _Versioned:
    """Each row counts its edits and knows when it was created and last changed."""

    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, object]:
        # SQLAlchemy bumps the version on every UPDATE and refuses one made from a stale read,
        # so two operators editing the same row cannot silently overwrite each other.
        return {'version_id_col': cls.__table__.c.version}  # type: ignore[attr-defined]


# The largest id or version the databases' integer columns hold; past it a query overflows rather
# than finding no row.
MAX_INTEGER = 2 ** 31 - 1

# On SQLite, ids are never given twice (AUTOINCREMENT): a row's id names its history and pings, and a
# stale edit by id must find nothing rather than the row made after it was deleted (migration 0011).
_NEVER_REUSED = {'sqlite_autoincrement': True}


class SecurityDefinition(_Versioned, Base):
    __tablename__ = 'security_definition'
    __table_args__ = _NEVER_REUSED

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    sec_type: Mapped[str] = mapped_column(String(32), nullable=False)
    username: Mapped[str | None] = mapped_column(String(200))
    header_name: Mapped[str | None] = mapped_column(String(200))
    # Fernet token of the password, key or token; never the plain text.
    secret: Mapped[str | None] = mapped_column(Text)
    password_type: Mapped[str | None] = mapped_column(String(16))
    timestamp_ttl: Mapped[int | None] = mapped_column(Integer)
    token_url: Mapped[str | None] = mapped_column(String(2000))
    client_id: Mapped[str | None] = mapped_column(String(500))
    scopes: Mapped[str | None] = mapped_column(String(2000))
    audience: Mapped[str | None] = mapped_column(String(2000))
    token_extra: Mapped[str | None] = mapped_column(Text)
    client_auth: Mapped[str | None] = mapped_column(String(16))
    # Fernet tokens, as secret is.
    client_cert: Mapped[str | None] = mapped_column(Text)
    key_password: Mapped[str | None] = mapped_column(Text)


class OutgoingConnection(_Versioned, Base):
    __tablename__ = 'outgoing_connection'
    __table_args__ = (UniqueConstraint('transport', 'name'), _NEVER_REUSED)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transport: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    host: Mapped[str] = mapped_column(String(2000), nullable=False)
    url_path: Mapped[str] = mapped_column(String(2000), nullable=False)
    # RESTRICT: a definition in use cannot be deleted; the store says which connections use it.
    security_id: Mapped[int | None] = mapped_column(
        ForeignKey('security_definition.id', ondelete='RESTRICT'),
        index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False)
    connect_timeout: Mapped[float] = mapped_column(Float, nullable=False)
    read_timeout: Mapped[float] = mapped_column(Float, nullable=False)
    total_timeout: Mapped[float | None] = mapped_column(Float)
    max_response_size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    max_retries: Mapped[int] = mapped_column(Integer, nullable=False)
    # Comma-separated, as the config's text form: 429,502,503,504 and GET,HEAD,PUT,DELETE,OPTIONS.
    retry_on_status: Mapped[str] = mapped_column(String(200), nullable=False)
    retry_methods: Mapped[str] = mapped_column(String(200), nullable=False)
    retry_backoff: Mapped[float] = mapped_column(Float, nullable=False)
    retry_after_max: Mapped[float] = mapped_column(Float, nullable=False)
    breaker_threshold: Mapped[int] = mapped_column(Integer, nullable=False)
    breaker_reset: Mapped[float] = mapped_column(Float, nullable=False)
    rate_limit: Mapped[int] = mapped_column(Integer, nullable=False)
    pool_size: Mapped[int] = mapped_column(Integer, nullable=False)
    ping_method: Mapped[str] = mapped_column(String(16), nullable=False)
    data_format: Mapped[str] = mapped_column(String(16), nullable=False)
    content_type: Mapped[str | None] = mapped_column(String(200))
    validate_tls: Mapped[bool] = mapped_column(Boolean, nullable=False)
    ca_bundle: Mapped[str | None] = mapped_column(Text)
    proxy: Mapped[str | None] = mapped_column(String(2000))
    follow_redirects: Mapped[bool] = mapped_column(Boolean, nullable=False)
    max_redirects: Mapped[int] = mapped_column(Integer, nullable=False)
    cid_header: Mapped[str] = mapped_column(String(200), nullable=False)
    component_header: Mapped[str] = mapped_column(String(200), nullable=False)
    msg_ts_header: Mapped[str] = mapped_column(String(200), nullable=False)
    soap_version: Mapped[str] = mapped_column(String(8), nullable=False)
    soap_action: Mapped[str | None] = mapped_column(String(2000))
    wsdl: Mapped[str | None] = mapped_column(Text)
    wsdl_service: Mapped[str | None] = mapped_column(String(200))
    wsdl_port: Mapped[str | None] = mapped_column(String(200))

    security: Mapped[SecurityDefinition | None] = relationship(lazy='joined')


class HistoryEntry(Base):
    """One change of a template or security definition: who, when, what, and the settings after it.

    Not tied to its object by a foreign key, so that a deleted object's history stays readable.
    Secrets never appear: their changes are recorded as "changed", and the settings kept hold none.
    """

    __tablename__ = 'history'

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The change counter's value of the transaction that wrote it.
    change: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    object_id: Mapped[int] = mapped_column(Integer, nullable=False)
    object_name: Mapped[str] = mapped_column(String(200), nullable=False)
    transport: Mapped[str | None] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    changed_by: Mapped[str] = mapped_column(String(200), nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    # JSON: {field: [old, new]}, secrets as "changed"; and the settings after the change.
    changes: Mapped[str] = mapped_column(Text, nullable=False)
    settings: Mapped[str] = mapped_column(Text, nullable=False)

    __table_args__ = (Index('ix_history_kind_object_id', 'kind', 'object_id'),)


class ChangeCounter(Base):
    """One row whose value every change bumps in its own transaction: what other processes poll."""

    __tablename__ = 'change_counter'

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer, nullable=False)


class AdminUser(Base):
    """A person who signs in to the admin; the password only as a slow hash."""

    __tablename__ = 'admin_user'

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(500), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # Part of every session id the user signs in with; counting it up (at logout, or a new password
    # or role) ends each of those sessions, wherever a copy of its cookie is.
    session_epoch: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class APIToken(Base):
    """A token scripts present to the API; only its SHA-256 is kept."""

    __tablename__ = 'api_token'

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Node(Base):
    """A running process that follows the database: who it is and which change it has applied."""

    __tablename__ = 'node'

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The component string its requests carry: <cluster>/<server>/<host>/<pid>.
    component: Mapped[str] = mapped_column(String(500), nullable=False)
    host: Mapped[str] = mapped_column(String(255), nullable=False)
    pid: Mapped[int] = mapped_column(Integer, nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    applied_change: Mapped[int] = mapped_column(Integer, nullable=False)
    # Seconds between heartbeats, so that readers know when a node has gone silent.
    interval: Mapped[float] = mapped_column(Float, nullable=False)


class FailedLogin(Base):
    """One failed sign-in, counted per user name and per client address to throttle guessing.

    Kept in the database so that every worker of every process counts the same failures. The name
    is whatever was typed, existing user or not, so that the throttle never tells which exist.
    """

    __tablename__ = 'failed_login'

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # 'user' or 'address', and the user name or client address it counts against.
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    key: Mapped[str] = mapped_column(String(200), nullable=False)
    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

    __table_args__ = (Index('ix_failed_login_kind_key_failed_at', 'kind', 'key', 'failed_at'),)
