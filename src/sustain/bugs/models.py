"""Bugs (the causes behind incidents), their status per release line, and the commits that fix them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from sustain.core import tenancy
from sustain.core.models import Priority, StoredFile
from sustain.core.sealing import SealedTextField
from sustain.core.search import FullTextIndex

KEY_PREFIX = "BUG"


class Severity(models.TextChoices):
    """How bad the defect is; kept apart from priority (how soon the team works on it)."""

    BLOCKER = "blocker"
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    TRIVIAL = "trivial"


SEVERITY_RANK = {s: i for i, s in enumerate(Severity.values)}


class Status(models.TextChoices):
    NEW = "new"
    TRIAGED = "triaged"
    IN_PROGRESS = "in_progress", "In progress"
    FIXED = "fixed"
    VERIFIED = "verified"
    CLOSED = "closed"
    WONT_FIX = "wont_fix", "Won't fix"
    CANNOT_REPRODUCE = "cannot_reproduce", "Cannot reproduce"
    DUPLICATE = "duplicate"


# Still to be fixed: the work queue and "open blocker" checks read these.
OPEN_STATUSES = (Status.NEW, Status.TRIAGED, Status.IN_PROGRESS)
# A fix exists (a commit); whether it is shipped to an environment is a deployment fact.
FIXED_STATUSES = (Status.FIXED, Status.VERIFIED, Status.CLOSED)


class LineStatus(models.TextChoices):
    """A bug's state on one release line (8.0, 8.1 …): the backport table."""

    AFFECTED = "affected"
    UNAFFECTED = "unaffected"
    FIX_PLANNED = "fix_planned", "Fix planned"
    FIXED = "fixed"
    VERIFIED = "verified"
    WONT_FIX = "wont_fix", "Won't fix"


# Lines whose versions below the fix version (if any) still carry the bug.
AFFECTED_LINE_STATUSES = (
    LineStatus.AFFECTED,
    LineStatus.FIX_PLANNED,
    LineStatus.FIXED,
    LineStatus.VERIFIED,
    LineStatus.WONT_FIX,
)


class Bug(models.Model):
    key = models.CharField(max_length=20, unique=True)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True, default="")
    steps_to_reproduce = models.TextField(blank=True, default="")
    expected_behaviour = models.TextField(blank=True, default="")
    actual_behaviour = models.TextField(blank=True, default="")
    product = models.ForeignKey("cmdb.Product", on_delete=models.PROTECT, related_name="bugs")
    component = models.ForeignKey(
        "cmdb.Component", null=True, blank=True, on_delete=models.SET_NULL, related_name="bugs"
    )
    affected_versions = models.ManyToManyField(
        "cmdb.Version", blank=True, related_name="bugs_affecting"
    )
    # The environment where it was seen (a configuration item of some organization).
    environment = models.ForeignKey(
        "cmdb.ConfigItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="bugs"
    )
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MAJOR)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.P3)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    resolution_note = models.TextField(blank=True, default="")
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_bugs",
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="bugs"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_bugs",
    )
    target_release = models.ForeignKey(
        "releases.Release",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="targeted_bugs",
    )
    # Set when a verified or closed bug comes back (a new incident or a reopen).
    is_regression = models.BooleanField(default=False)
    regressed_in = models.ForeignKey(
        "cmdb.Version", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Impact of the linked incidents, kept up to date by the linking actions (the triage
    # queue sorts by them, so they are columns rather than a join per row).
    incident_count = models.PositiveIntegerField(default=0)
    organization_count = models.PositiveIntegerField(default=0)
    environment_count = models.PositiveIntegerField(default=0)
    # The triage clock (business time from the SLA engine's calendars).
    triage_due_at = models.DateTimeField(null=True, blank=True)
    triage_breached_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    triaged_at = models.DateTimeField(null=True, blank=True)
    fixed_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    # Bugs belong to products, not to one customer: staff see all of them; customers see those
    # linked to their organization's tickets or environments (customer_scope).
    tenant_field = None
    search_index = FullTextIndex("bugs_bug", ("key", "title", "description"))

    class Meta:
        indexes = [
            # Lists: WHERE status IN (…) ORDER BY id DESC
            models.Index(fields=["status", "id"], name="bug_status_idx"),
            models.Index(fields=["assignee", "status", "id"], name="bug_assignee_idx"),
            models.Index(fields=["product", "status", "id"], name="bug_product_idx"),
            # The triage queue: WHERE status = 'new' ORDER BY organization_count DESC …
            models.Index(
                fields=["-organization_count", "-incident_count", "id"],
                name="bug_triage_impact_idx",
                condition=Q(status="new"),
            ),
            # The triage sweep: WHERE status = 'new' AND triage_breached_at IS NULL
            # AND triage_due_at <= now
            models.Index(
                fields=["triage_due_at"],
                name="bug_triage_due_idx",
                condition=Q(status="new", triage_breached_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @classmethod
    def customer_scope(cls, queryset: QuerySet, user: Any) -> QuerySet:
        org = user.organization_id
        linked = BugTicket.objects.filter(bug=OuterRef("pk"), ticket__organization_id=org)
        return queryset.filter(Q(Exists(linked)) | Q(environment__organization_id=org))


class BugLine(models.Model):
    """The bug on one release line (major.minor) of its product: one row of the backport table."""

    bug = models.ForeignKey(Bug, on_delete=models.CASCADE, related_name="lines")
    major = models.PositiveIntegerField()
    minor = models.PositiveIntegerField()
    status = models.CharField(
        max_length=12, choices=LineStatus.choices, default=LineStatus.AFFECTED
    )
    # The first version of the line that carries the bug (None: every version before the fix).
    introduced_in = models.ForeignKey(
        "cmdb.Version", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # "Fix planned for version X", then the version that carries the fix.
    planned_version = models.ForeignKey(
        "cmdb.Version", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    fixed_version = models.ForeignKey(
        "cmdb.Version", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    fixed_by = models.ForeignKey(
        "bugs.Commit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    tenant_field = None
    customer_visible = False

    class Meta:
        ordering = ["bug", "-major", "-minor"]
        constraints = [
            models.UniqueConstraint(fields=["bug", "major", "minor"], name="bug_line_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.bug_id} {self.major}.{self.minor} {self.status}"

    @property
    def line(self) -> str:
        return f"{self.major}.{self.minor}"


class BugTicket(models.Model):
    """An incident (or request) caused by a bug."""

    bug = models.ForeignKey(Bug, on_delete=models.CASCADE, related_name="ticket_links")
    ticket = models.ForeignKey("desk.Ticket", on_delete=models.CASCADE, related_name="bug_links")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    tenant_field = "ticket__organization"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bug", "ticket"], name="bug_ticket_unique"),
        ]
        indexes = [models.Index(fields=["ticket"], name="bug_ticket_ticket_idx")]

    def __str__(self) -> str:
        return f"{self.bug_id} ← {self.ticket_id}"


class BugComment(models.Model):
    bug = models.ForeignKey(Bug, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    # Bug discussion is internal unless an agent marks a comment public.
    is_public = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    tenant_field = None

    class Meta:
        indexes = [models.Index(fields=["bug", "id"], name="bug_comment_bug_idx")]

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.bug_id}"

    @classmethod
    def customer_scope(cls, queryset: QuerySet, user: Any) -> QuerySet:
        bugs = Bug.customer_scope(Bug.objects.all(), user)
        return tenancy.customer_scope(queryset, user).filter(bug__in=bugs)


def bug_attachment_path(instance: BugAttachment, filename: str) -> str:
    return f"bugs/{instance.bug_id}/{instance.sha256[:16]}-{filename}"


class BugAttachment(StoredFile):
    bug = models.ForeignKey(Bug, on_delete=models.CASCADE, related_name="attachments")
    comment = models.ForeignKey(
        BugComment, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to=bug_attachment_path, max_length=300)

    tenant_field = None
    customer_visible = False


class TriageTarget(models.Model):
    """How long a new bug of a severity may wait for triage, in business time of a calendar."""

    severity = models.CharField(max_length=10, choices=Severity.choices, unique=True)
    minutes = models.PositiveIntegerField()
    calendar = models.ForeignKey(
        "sla.Calendar", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    tenant_field = None
    customer_visible = False

    class Meta:
        ordering = ["severity"]

    def __str__(self) -> str:
        return f"triage {self.severity} within {self.minutes} min"


class Repository(models.Model):
    """A source repository whose commits can fix bugs: by push webhook or by a local scan."""

    class Provider(models.TextChoices):
        GITHUB = "github", "GitHub"
        GITLAB = "gitlab", "GitLab"
        GITEA = "gitea", "Gitea"
        LOCAL = "local", "local git"

    name = models.CharField(max_length=200, unique=True)
    product = models.ForeignKey(
        "cmdb.Product",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="repositories",
    )
    provider = models.CharField(max_length=10, choices=Provider.choices, default=Provider.LOCAL)
    url = models.URLField(max_length=500, blank=True, default="")
    # A local clone for `sustain vcs scan` and for the commits between two release tags.
    path = models.CharField(max_length=500, blank=True, default="")
    default_branch = models.CharField(max_length=200, default="main")
    # fnmatch patterns of the other branches whose commits count (release lines, backports).
    branch_patterns = models.JSONField(default=list, blank=True)
    # GitHub and Gitea sign the body with it (HMAC-SHA256); GitLab sends it as a token.
    webhook_secret = SealedTextField(max_length=200, blank=True, default="")  # sealed at rest
    created_at = models.DateTimeField(default=timezone.now)

    tenant_field = None
    customer_visible = False

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "repositories"

    def __str__(self) -> str:
        return self.name


class Commit(models.Model):
    """One commit, stored once however often it is seen (pushes, scans, several branches)."""

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="commits")
    sha = models.CharField(max_length=64)
    message = models.TextField()
    author_name = models.CharField(max_length=200, blank=True, default="")
    author_email = models.CharField(max_length=254, blank=True, default="")
    committed_at = models.DateTimeField(null=True, blank=True)
    url = models.URLField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    tenant_field = None
    customer_visible = False

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["repository", "sha"], name="commit_unique_sha"),
        ]

    def __str__(self) -> str:
        return self.sha[:12]

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0]


class CommitBranch(models.Model):
    """A branch a commit was seen on."""

    commit = models.ForeignKey(Commit, on_delete=models.CASCADE, related_name="branches")
    branch = models.CharField(max_length=200)

    tenant_field = None
    customer_visible = False

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["commit", "branch"], name="commit_branch_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.commit_id}@{self.branch}"


class BugCommit(models.Model):
    """A commit naming a bug: `Fixes BUG-12` (fixes) or `Refs BUG-12` (refs)."""

    class Kind(models.TextChoices):
        FIXES = "fixes"
        REFS = "refs"

    bug = models.ForeignKey(Bug, on_delete=models.CASCADE, related_name="commit_links")
    commit = models.ForeignKey(Commit, on_delete=models.CASCADE, related_name="bug_links")
    kind = models.CharField(max_length=5, choices=Kind.choices)
    branch = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    tenant_field = None
    customer_visible = False

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bug", "commit", "kind"], name="bug_commit_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.commit_id} {self.kind} {self.bug_id}"


class TicketWord(models.Model):
    """A term an open ticket is found under by duplicate suggestions (a word of its key, title
    or description's start, or what the word is a form of): the newest rows of a term are a
    walk of the (term, ticket) b-tree (bugs.similar.index keeps them)."""

    ticket = models.ForeignKey("desk.Ticket", on_delete=models.CASCADE, related_name="+")
    term = models.CharField(max_length=100)

    tenant_field = None
    customer_visible = False

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["term", "ticket"], name="ticketword_term_unique")
        ]

    def __str__(self) -> str:
        return f"{self.term} {self.ticket_id}"


class BugWord(models.Model):
    """A term an open bug is found under (as TicketWord)."""

    bug = models.ForeignKey(Bug, on_delete=models.CASCADE, related_name="+")
    term = models.CharField(max_length=100)

    tenant_field = None
    customer_visible = False

    class Meta:
        constraints = [models.UniqueConstraint(fields=["term", "bug"], name="bugword_term_unique")]

    def __str__(self) -> str:
        return f"{self.term} {self.bug_id}"
