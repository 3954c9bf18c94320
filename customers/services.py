"""Writes on customers and levels. Each service owns its transaction."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Permission
from django.db import IntegrityError, connections, transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from customers.exceptions import (
    LEVEL_IN_USE,
    MOBILE_TAKEN,
    NOT_A_STAFF_USER,
    USERNAME_TAKEN,
    DuplicateCustomer,
    InvalidAccountManager,
    LevelInUse,
)
from customers.models import Customer, CustomerUserObjectPermission, Level
from customers.phone import normalize_mobile

User = get_user_model()

# The object permissions an account manager holds on each customer they manage.
MANAGER_OBJECT_PERMS = ("customers.view_customer", "customers.change_customer")


def _check_manager(manager: AbstractBaseUser | None) -> None:
    if manager is not None and not (manager.is_active and manager.is_staff):
        raise InvalidAccountManager(NOT_A_STAFF_USER)


def _grant_manager(customer: Customer, manager: AbstractBaseUser | None) -> None:
    if manager is not None:
        for perm in MANAGER_OBJECT_PERMS:
            assign_perm(perm, manager, customer)


def _revoke_manager(customer: Customer, manager: AbstractBaseUser | None) -> None:
    if manager is not None:
        for perm in MANAGER_OBJECT_PERMS:
            remove_perm(perm, manager, customer)


def customer_create(
    *,
    username: str,
    name: str,
    mobile: str,
    level: Level,
    account_manager: AbstractBaseUser | None,
    password: str | None = None,
    is_active: bool = True,
    notes: str = "",
) -> Customer:
    """Create the portal user and the customer, and give the account manager its object perms."""
    mobile = normalize_mobile(mobile)
    _check_manager(account_manager)
    if User.objects.filter(username=username).exists():
        raise DuplicateCustomer(USERNAME_TAKEN, username=username)
    if Customer.objects.filter(mobile=mobile).exists():
        raise DuplicateCustomer(MOBILE_TAKEN, mobile=mobile)
    try:
        with transaction.atomic():
            user = User(username=username, is_staff=False, is_active=is_active)
            if password:
                user.set_password(password)
            else:
                user.set_unusable_password()
            user.save()
            customer = Customer.objects.create(
                user=user,
                name=name,
                mobile=mobile,
                level=level,
                account_manager=account_manager,
                is_active=is_active,
                notes=notes,
            )
            _grant_manager(customer, account_manager)
    except IntegrityError as exc:  # a concurrent create won the race for the username/mobile
        raise DuplicateCustomer(MOBILE_TAKEN, mobile=mobile) from exc
    return customer


def customer_update(
    *,
    customer: Customer,
    name: str,
    mobile: str,
    level: Level,
    notes: str = "",
) -> Customer:
    """Change a customer's details (not its manager or active flag: those have own services)."""
    mobile = normalize_mobile(mobile)
    if Customer.objects.filter(mobile=mobile).exclude(pk=customer.pk).exists():
        raise DuplicateCustomer(MOBILE_TAKEN, mobile=mobile)
    customer.name, customer.mobile, customer.level, customer.notes = name, mobile, level, notes
    try:
        with transaction.atomic():
            customer.save(update_fields=["name", "mobile", "level", "notes"])
    except IntegrityError as exc:
        raise DuplicateCustomer(MOBILE_TAKEN, mobile=mobile) from exc
    return customer


def customer_set_password(*, customer: Customer, password: str) -> None:
    """Set or reset the portal password (hashed by Django, never stored or shown in clear)."""
    customer.user.set_password(password)
    customer.user.save(update_fields=["password"])


def customer_set_level(*, customer: Customer, level: Level) -> Customer:
    """Move a customer to another level."""
    Customer.objects.filter(pk=customer.pk).update(level=level)
    customer.level = level
    return customer


def customer_set_active(*, customer: Customer, is_active: bool) -> Customer:
    """Activate or deactivate; a deactivated customer can neither log in nor order."""
    with transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(is_active=is_active)
        User.objects.filter(pk=customer.user_id).update(is_active=is_active)
    customer.is_active = is_active
    customer.user.is_active = is_active
    return customer


def customer_reassign_manager(
    *, customer: Customer, account_manager: AbstractBaseUser | None
) -> Customer:
    """Hand the customer to another account manager, moving the object permissions with it."""
    _check_manager(account_manager)
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        previous = locked.account_manager
        if previous == account_manager:
            return locked
        _revoke_manager(locked, previous)
        locked.account_manager = account_manager
        locked.save(update_fields=["account_manager"])
        _grant_manager(locked, account_manager)
    return locked


def level_delete(*, level: Level) -> None:
    """Delete a level nobody holds; refuse, saying how many hold it, otherwise."""
    count = Customer.objects.filter(level=level).count()
    if count:
        raise LevelInUse(LEVEL_IN_USE, level=level.name, count=count)
    level.delete()


def customers_bulk_create(*, customers: list[Customer]) -> list[Customer]:
    """Insert many new customers at once (imports): their users, rows and manager permissions.

    Each customer carries an unsaved ``user``. The rows were validated by the caller; a
    duplicate that slipped in concurrently fails the whole batch with IntegrityError.
    No post_save is sent in bulk: apps above this one that keep a row per customer open it
    on first use.
    """
    if not customers:
        return customers
    with transaction.atomic():
        users = User.objects.bulk_create([customer.user for customer in customers])
        if any(user.pk is None for user in users):  # a backend without RETURNING on insert
            ids = dict(
                User.objects.filter(username__in=[u.username for u in users]).values_list(
                    "username", "pk"
                )
            )
            for user in users:
                user.pk = ids[user.username]
        for customer, user in zip(customers, users, strict=True):
            customer.user = user
        created = Customer.objects.bulk_create(customers)
        if any(customer.pk is None for customer in created):
            ids = dict(Customer.objects.filter(user__in=users).values_list("user_id", "pk"))
            for customer in created:
                customer.pk = ids[customer.user_id]
        _bulk_grant(created)
    return created


def customers_bulk_update(*, customers: list[Customer], previous_managers: dict[int, int | None]):
    """Save imported changes to existing customers; move manager permissions that changed.

    ``previous_managers`` maps a customer id to its account manager's id before the change.
    """
    if not customers:
        return
    with transaction.atomic():
        Customer.objects.bulk_update(
            customers, ["name", "mobile", "level", "account_manager", "is_active"]
        )
        User.objects.bulk_update([c.user for c in customers], ["is_active"])
        moved = [c for c in customers if previous_managers.get(c.pk) != c.account_manager_id]
        if moved:
            for customer in moved:
                CustomerUserObjectPermission.objects.filter(
                    content_object=customer, user_id=previous_managers.get(customer.pk)
                ).delete()
            _bulk_grant(moved)


def _manager_permissions() -> list:
    codenames = [perm.split(".", 1)[1] for perm in MANAGER_OBJECT_PERMS]
    return list(
        Permission.objects.filter(content_type__app_label="customers", codename__in=codenames)
    )


def _bulk_grant(customers: list[Customer]) -> None:
    permissions = _manager_permissions()
    CustomerUserObjectPermission.objects.bulk_create(
        [
            CustomerUserObjectPermission(
                user_id=customer.account_manager_id, permission=permission, content_object=customer
            )
            for customer in customers
            if customer.account_manager_id
            for permission in permissions
        ],
        ignore_conflicts=True,
    )


def _insert_rows(model, columns: list[str], values: list[tuple], *, using: str) -> None:
    """One multi-row INSERT per batch through the driver, without the ORM's per-field work.

    ``values`` are already database values (ids, strings, booleans, one adapted datetime):
    Django's bulk_create spends most of an import compiling 7 fields × N objects into SQL.
    """
    connection = connections[using]
    qn = connection.ops.quote_name
    opts = model._meta
    names = ", ".join(qn(opts.get_field(column).column) for column in columns)
    marks = ", ".join(["%s"] * len(columns))
    # Only quoted model metadata goes into the text; every value is a parameter.
    sql = f"INSERT INTO {qn(opts.db_table)} ({names}) VALUES ({marks})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)


def customers_bulk_insert(*, rows: list[dict], using: str = "default") -> int:
    """Insert many new customers fast (imports): users, customers and manager permissions.

    Each row has ``username``, ``password`` (already unusable), ``name``, ``mobile``,
    ``level_id``, ``account_manager_id`` (or None) and ``is_active``, all validated by the
    caller. Three multi-row INSERTs and two id look-ups per batch, whatever its size; a
    duplicate that slipped in concurrently fails with IntegrityError (the caller's transaction
    rolls back). Like ``customers_bulk_create``, no post_save is sent.
    """
    if not rows:
        return 0
    connection = connections[using]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with transaction.atomic(using=using):
        _insert_rows(
            User,
            [
                "password",
                "is_superuser",
                "username",
                "first_name",
                "last_name",
                "email",
                "is_staff",
                "is_active",
                "date_joined",
            ],
            [
                (row["password"], False, row["username"], "", "", "", False, row["is_active"], now)
                for row in rows
            ],
            using=using,
        )
        usernames = [row["username"] for row in rows]
        user_ids = dict(
            User.objects.using(using).filter(username__in=usernames).values_list("username", "pk")
        )
        if connection.vendor == "mysql":  # the column compares case-insensitively
            user_ids = {name.lower(): pk for name, pk in user_ids.items()}
            ids = [user_ids[name.lower()] for name in usernames]
        else:
            ids = [user_ids[name] for name in usernames]
        _insert_rows(
            Customer,
            [
                "user",
                "name",
                "mobile",
                "level",
                "account_manager",
                "is_active",
                "created_at",
                "notes",
            ],
            [
                (
                    user_id,
                    row["name"],
                    row["mobile"],
                    row["level_id"],
                    row["account_manager_id"],
                    row["is_active"],
                    now,
                    "",
                )
                for user_id, row in zip(ids, rows, strict=True)
            ],
            using=using,
        )
        managed = [
            (uid, row) for uid, row in zip(ids, rows, strict=True) if row["account_manager_id"]
        ]
        if managed:
            customer_ids = dict(
                Customer.objects.using(using)
                .filter(user_id__in=[uid for uid, _row in managed])
                .values_list("user_id", "pk")
            )
            permissions = [p.pk for p in _manager_permissions()]
            _insert_rows(
                CustomerUserObjectPermission,
                ["user", "permission", "content_object"],
                [
                    (row["account_manager_id"], permission, customer_ids[uid])
                    for uid, row in managed
                    for permission in permissions
                ],
                using=using,
            )
    return len(rows)
