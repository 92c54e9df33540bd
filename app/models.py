"""Imports every model so that metadata is complete (Alembic and tests use this)."""
from app.actions.models import Action  # noqa: F401
from app.audit.models import HistoryEntry, HistoryHead  # noqa: F401
from app.auth.models import ApiToken, User, UserRole  # noqa: F401
from app.core.db import Base  # noqa: F401
from app.documents.models import Document, DocumentTemplate  # noqa: F401
from app.deadlines.models import Deadline, DeadlineExtension  # noqa: F401
from app.notifications.models import OutboxMessage  # noqa: F401
from app.imrs.models import ChronologyEntry, Imr  # noqa: F401
from app.overview.models import Overview, Recommendation  # noqa: F401
from app.panel.models import PanelMember  # noqa: F401
from app.partnerships.models import Agency, Csp, ReferenceCounter  # noqa: F401
from app.people.models import Person  # noqa: F401
from app.proceedings.models import Proceeding  # noqa: F401
from app.retention.models import LegalHold  # noqa: F401
from app.reviews.models import Review  # noqa: F401
from app.submissions.models import QaChange, Submission  # noqa: F401
from app.terms.models import TermsOfReference  # noqa: F401
