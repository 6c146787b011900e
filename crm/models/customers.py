"""The single customer view: who the customer is, what they hold, do and prefer."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords


class Source(models.TextChoices):
    """The systems customers and their data come from."""

    SALES = "sales", _("Sales")
    MARKETING = "marketing", _("Marketing")
    SERVICE = "service", _("Service")
    STORE = "store", _("Store")
    SHOP = "shop", _("Online shop")
    POS = "pos", _("Point of sale")
    CORE_BANKING = "core_banking", _("Core banking")
    APP = "app", _("App")
    CRM = "crm", _("CRM")


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="TeamMembership",
        related_name="teams",
        verbose_name=_("members"),
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    class Role(models.TextChoices):
        RELATIONSHIP_MANAGER = "rm", _("Relationship manager")
        SUPERVISOR = "supervisor", _("Supervisor")

    # Foreign keys that lead a composite index or unique constraint get no index of their own:
    # at millions of rows each extra index costs write time and disk.
    team = models.ForeignKey(Team, on_delete=models.CASCADE, db_index=False, verbose_name=_("team"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, verbose_name=_("user")
    )
    role = models.CharField(
        _("role"), max_length=20, choices=Role.choices, default=Role.RELATIONSHIP_MANAGER
    )

    class Meta:
        verbose_name = _("team membership")
        verbose_name_plural = _("team memberships")
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="team_membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.team} ({self.get_role_display()})"


class Customer(models.Model):
    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", _("Individual")
        BUSINESS = "business", _("Business")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        DORMANT = "dormant", _("Dormant")
        CLOSED = "closed", _("Closed")
        MERGED = "merged", _("Merged into another customer")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.INDIVIDUAL)
    name = models.CharField(_("name"), max_length=200)
    phone = PhoneNumberField(_("mobile phone"), region="CN", blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True, db_index=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    is_student = models.BooleanField(_("student"), default=False)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_customers",
        verbose_name=_("relationship manager"),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="customers",
        verbose_name=_("team"),
    )
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="merged_customers",
        verbose_name=_("merged into"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("view_all_customers", _("Can see and change every customer")),
            ("view_customer_contact", _("Can see a customer's phone and e-mail unmasked")),
        ]
        indexes = [
            # The changelist and the API list newest first, for all, a team or one RM.
            models.Index(fields=["-created_at", "-id"], name="customer_newest_idx"),
            models.Index(fields=["owner", "-created_at", "-id"], name="customer_owner_newest_idx"),
            models.Index(fields=["team", "-created_at", "-id"], name="customer_team_newest_idx"),
            models.Index(fields=["name"], name="customer_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        # Stored lower-case so that search by e-mail is an indexed equality.
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)


class Consent(models.Model):
    """A customer's yes or no to being contacted on one channel for one purpose."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")
        PUSH = "push", _("App push")
        PHONE = "phone", _("Phone call")

    class Purpose(models.TextChoices):
        MARKETING = "marketing", _("Marketing")
        SERVICE = "service", _("Service")

    class EvidenceChannel(models.TextChoices):
        """Through what the customer gave the answer: the evidence a regulator asks for."""

        WEB_FORM = "web_form", _("Web form")
        APP = "app", _("Mobile app")
        PAPER_FORM = "paper_form", _("Signed paper form")
        BRANCH = "branch", _("Branch visit")
        PHONE_CALL = "phone_call", _("Phone call (recorded)")
        EMAIL = "email", _("E-mail from the customer")
        SMS_REPLY = "sms_reply", _("SMS reply")
        IMPORT = "import", _("Imported from another system")

    customer = models.ForeignKey(
        Customer,
        db_index=False,
        on_delete=models.CASCADE,
        related_name="consents",
        verbose_name=_("customer"),
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    purpose = models.CharField(
        _("purpose"), max_length=20, choices=Purpose.choices, default=Purpose.MARKETING
    )
    is_granted = models.BooleanField(_("granted"), default=False)
    granted_at = models.DateTimeField(_("given at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    evidence = models.CharField(
        _("evidence"),
        max_length=200,
        blank=True,
        help_text=_("Where the answer was given: a form, a call, a branch visit."),
    )
    evidence_channel = models.CharField(
        _("given through"),
        max_length=20,
        choices=EvidenceChannel.choices,
        blank=True,
        default="",
        db_default="",  # set-based writers (demo data, imports) leave it out
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # only a rare user deletion looks it up
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "channel", "purpose"], name="consent_unique_per_purpose"
            )
        ]
        indexes = [models.Index(fields=["channel", "purpose", "is_granted"])]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} / {self.get_purpose_display()}"


class SourceRecord(models.Model):
    """Which system a customer came from and their id there."""

    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="source_records",
        verbose_name=_("customer"),
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    external_id = models.CharField(_("external id"), max_length=100)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("source record")
        verbose_name_plural = _("source records")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="source_record_unique_external_id"
            )
        ]
        indexes = [models.Index(fields=["external_id"], name="source_record_external_idx")]

    def __str__(self) -> str:
        return f"{self.get_source_display()}: {self.external_id}"


class Transaction(models.Model):
    class Kind(models.TextChoices):
        PURCHASE = "purchase", _("Purchase")
        REFUND = "refund", _("Refund")
        CARD_REPAYMENT = "card_repayment", _("Card repayment")
        DEPOSIT = "deposit", _("Deposit")
        WITHDRAWAL = "withdrawal", _("Withdrawal")
        TRANSFER_IN = "transfer_in", _("Transfer in")
        TRANSFER_OUT = "transfer_out", _("Transfer out")

    class Category(models.TextChoices):
        DINING = "dining", _("Dining")
        SUPERMARKET = "supermarket", _("Supermarket")
        MOTHER_AND_BABY = "mother_and_baby", _("Mother and baby")
        TRAVEL = "travel", _("Travel")
        ELECTRONICS = "electronics", _("Electronics")
        FASHION = "fashion", _("Fashion")
        HEALTH = "health", _("Health")
        EDUCATION = "education", _("Education")
        HOME = "home", pgettext_lazy("transaction category", "Home")
        OTHER = "other", _("Other")

    class Channel(models.TextChoices):
        ONLINE = "online", _("Online")
        STORE = "store", _("Offline store")
        POS = "pos", _("POS")
        APP = "app", _("App")
        BRANCH = "branch", _("Branch")

    class PaymentMethod(models.TextChoices):
        CARD = "card", _("Card")
        ACCOUNT = "account", _("Account")
        WALLET = "wallet", _("Mobile wallet")
        CASH = "cash", _("Cash")

    customer = models.ForeignKey(
        Customer,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="transactions",
        verbose_name=_("customer"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.PURCHASE)
    amount = models.DecimalField(
        _("amount"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    category = models.CharField(
        _("category"), max_length=30, choices=Category.choices, default=Category.OTHER
    )
    channel = models.CharField(
        _("channel"), max_length=20, choices=Channel.choices, default=Channel.ONLINE
    )
    payment_method = models.CharField(
        _("payment method"),
        max_length=20,
        choices=PaymentMethod.choices,
        default=PaymentMethod.CARD,
    )
    merchant = models.CharField(_("merchant"), max_length=200, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"))
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    external_id = models.CharField(_("external id"), max_length=100)
    refund_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refunds",
        verbose_name=_("refund of"),
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("transaction")
        verbose_name_plural = _("transactions")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="transaction_unique_external_id"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="transaction_amount_positive"),
            models.CheckConstraint(
                condition=Q(kind="refund", refund_of__isnull=False) | ~Q(kind="refund"),
                name="transaction_refund_has_original",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="transaction_customer_time_idx"),
            models.Index(fields=["-occurred_at", "-id"], name="transaction_newest_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.currency}"


class BalanceSnapshot(models.Model):
    """A customer's total assets at the end of one day."""

    customer = models.ForeignKey(
        Customer,
        db_index=False,
        on_delete=models.CASCADE,
        related_name="balances",
        verbose_name=_("customer"),
    )
    date = models.DateField(_("date"))
    amount = models.DecimalField(_("assets"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")

    class Meta:
        verbose_name = _("balance snapshot")
        verbose_name_plural = _("balance snapshots")
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "date"], name="balance_one_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.date}: {self.amount} {self.currency}"


class ProductHolding(models.Model):
    class ProductType(models.TextChoices):
        WEALTH_MANAGEMENT = "wealth_management", _("Wealth management")
        INSURANCE = "insurance", _("Insurance")
        FUND = "fund", _("Fund")
        DEPOSIT = "deposit", _("Term deposit")
        LOAN = "loan", _("Loan")
        CREDIT_CARD = "credit_card", _("Credit card")

    INTERMEDIATE_TYPES = (ProductType.WEALTH_MANAGEMENT, ProductType.INSURANCE, ProductType.FUND)

    customer = models.ForeignKey(
        Customer,
        db_index=False,
        on_delete=models.CASCADE,
        related_name="holdings",
        verbose_name=_("customer"),
    )
    product_type = models.CharField(_("product type"), max_length=30, choices=ProductType.choices)
    product_name = models.CharField(_("product"), max_length=200)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    opened_on = models.DateField(_("opened on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    external_id = models.CharField(_("external id"), max_length=100)

    class Meta:
        verbose_name = _("product holding")
        verbose_name_plural = _("product holdings")
        ordering = ["-opened_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="holding_unique_external_id"
            )
        ]
        indexes = [models.Index(fields=["customer", "closed_on"], name="holding_customer_idx")]

    def __str__(self) -> str:
        return self.product_name


class CreditEvent(models.Model):
    class Kind(models.TextChoices):
        OVERDUE_LOAN = "overdue_loan", _("Overdue loan")
        CARD_OVERDUE = "card_overdue", _("Card payment overdue")
        FRAUD_FLAG = "fraud_flag", _("Fraud flag")
        DEFAULT = "default", _("Default")

    class Severity(models.TextChoices):
        MINOR = "minor", _("Minor")
        SERIOUS = "serious", _("Serious")

    customer = models.ForeignKey(
        Customer,
        db_index=False,
        on_delete=models.CASCADE,
        related_name="credit_events",
        verbose_name=_("customer"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("credit event")
        verbose_name_plural = _("credit events")
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["customer", "-occurred_at"], name="credit_customer_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_severity_display()})"


class Interaction(models.Model):
    """One entry of the customer's activity timeline."""

    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        VISIT = "visit", _("Branch visit")
        LOGIN = "login", _("App login")
        REVIEW = "review", _("Review")
        TICKET = "ticket", _("Service ticket")
        FEEDBACK = "feedback", _("Feedback")
        SUGGESTION = "suggestion", _("Adopted suggestion")
        MESSAGE = "message", _("Message")
        NOTE = "note", _("Note")

    customer = models.ForeignKey(
        Customer,
        db_index=False,
        on_delete=models.CASCADE,
        related_name="interactions",
        verbose_name=_("customer"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now)
    summary = models.CharField(_("summary"), max_length=500)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("staff"),
    )

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="interaction_customer_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.summary[:50]}"


class Preference(models.Model):
    """Something the next person who serves the customer must know."""

    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="preferences",
        verbose_name=_("customer"),
    )
    text = models.CharField(_("preference"), max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        verbose_name=_("noted by"),
    )
    created_at = models.DateTimeField(_("noted at"), default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("preference")
        verbose_name_plural = _("preferences")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.text


class Tag(models.Model):
    """A label on customers: set by hand, or recomputed from a rule by a task."""

    class Kind(models.TextChoices):
        MANUAL = "manual", _("Manual")
        RULE = "rule", _("Rule-based")

    class Rule(models.TextChoices):
        TOP_SPENDERS = "top_spenders", _("Top share of customers by spend")
        ACTIVE_WITHIN = "active_within", _("Active within a number of days")
        CATEGORY_SHARE = "category_share", _("Share of spend in a category")

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.MANUAL)
    description = models.CharField(_("description"), max_length=300, blank=True)
    rule = models.CharField(_("rule"), max_length=30, choices=Rule.choices, blank=True)
    parameters = models.JSONField(
        _("rule parameters"),
        default=dict,
        blank=True,
        help_text=_(
            'For example {"share": 0.1, "days": 365} for the top 10% by 12-month spend, '
            '{"days": 30} for active in the last 30 days, '
            '{"category": "mother_and_baby", "share": 0.3, "days": 365}.'
        ),
    )
    recomputed_at = models.DateTimeField(_("recomputed at"), null=True, blank=True, editable=False)
    customers = models.ManyToManyField(
        Customer,
        through="CustomerTag",
        related_name="tags",
        verbose_name=_("customers"),
    )

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CustomerTag(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, db_index=False, verbose_name=_("customer")
    )
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, db_index=False, verbose_name=_("tag"))
    tagged_at = models.DateTimeField(_("tagged at"), default=timezone.now)

    class Meta:
        verbose_name = _("customer tag")
        verbose_name_plural = _("customer tags")
        constraints = [
            models.UniqueConstraint(fields=["customer", "tag"], name="customer_tag_unique")
        ]
        indexes = [models.Index(fields=["tag", "customer"], name="customer_tag_by_tag_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.tag}"


class Segment(models.Model):
    """A saved filter over customers; `definition` holds the customer filter's parameters."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    definition = models.JSONField(
        _("filter"),
        default=dict,
        blank=True,
        help_text=_(
            'The customer filter\'s parameters, e.g. {"team": 3, "consent": "sms", "tag": 7}.'
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from crm.filters import CustomerFilter, filter_errors_text

        customer_filter = CustomerFilter(
            data=self.definition or {}, queryset=Customer.objects.none()
        )
        unknown = set(self.definition or {}) - set(customer_filter.filters)
        if unknown:
            raise ValidationError(
                {
                    "definition": _("Unknown filters: %(names)s")
                    % {"names": ", ".join(sorted(unknown))}
                }
            )
        if not customer_filter.is_valid():
            raise ValidationError({"definition": filter_errors_text(customer_filter.errors)})
