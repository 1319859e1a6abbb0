"""The SSM calls moto 5.2 lacks, as the Terraform aws provider 5.100 makes them for fleetpatch.

Resources and the calls emulated here (everything else stays moto's own):

* ``aws_ssm_association`` — CreateAssociation, DescribeAssociation, UpdateAssociation,
  DeleteAssociation, plus ListAssociations (the demo lists the schedules) and the
  ``Association`` resource type of Add/Remove/ListTagsForResource.
* ``aws_ssm_resource_data_sync`` — CreateResourceDataSync, ListResourceDataSync,
  DeleteResourceDataSync.
* ``aws_ssm_patch_baseline`` — GetPatchBaseline, UpdatePatchBaseline, a DeletePatchBaseline
  that refuses a baseline still registered to a patch group, and the ``PatchBaseline``
  resource type of the tag calls (moto's CreatePatchBaseline fails on tags without it).
* ``aws_ssm_patch_group`` — RegisterPatchBaselineForPatchGroup, DescribePatchGroups,
  DeregisterPatchBaselineForPatchGroup and GetPatchBaselineForPatchGroup over one registry
  (moto's own deregistration removes nothing).
* ``aws_ssm_activation`` — CreateActivation, DescribeActivations, DeleteActivation.

State lives on moto's backend object, ``ssm_backends[account][region]`` (attribute
``fleetpatch_ext``), so accounts and regions are as separate as moto keeps them and moto's
reset clears it. Every request is first checked against the operation's input shape
(:func:`tests.emulator.shapes.request_violations`); invalid requests get the error AWS returns.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import string
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.iam.models import iam_backends
from moto.ssm.models import SimpleSystemManagerBackend, ssm_backends
from moto.ssm.responses import SimpleSystemManagerResponse

from .common import EmulatedError, Json, page, parse_request, snake
from .schedule import schedule_problem

# Limits AWS applies per account and region (Systems Manager service quotas).
MAX_RESOURCE_DATA_SYNCS = 5
MAX_ACTIVATION_TAGS = 1000
DEFAULT_ACTIVATION_HOURS = 24

# Every emulated operation, by its API name: what install() adds to moto's SSM responses.
OPERATIONS = (
    "CreateAssociation",
    "DescribeAssociation",
    "UpdateAssociation",
    "DeleteAssociation",
    "ListAssociations",
    "CreateResourceDataSync",
    "ListResourceDataSync",
    "DeleteResourceDataSync",
    "GetPatchBaseline",
    "UpdatePatchBaseline",
    "DeletePatchBaseline",
    "RegisterPatchBaselineForPatchGroup",
    "DeregisterPatchBaselineForPatchGroup",
    "GetPatchBaselineForPatchGroup",
    "DescribePatchGroups",
    "CreateActivation",
    "DescribeActivations",
    "DeleteActivation",
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _epoch(value: float | int | str) -> dt.datetime:
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt.datetime.fromtimestamp(float(value), dt.UTC)


# --- state --------------------------------------------------------------------------------------
ASSOCIATION_FIELDS = (
    "Name",
    "InstanceId",
    "DocumentVersion",
    "Parameters",
    "Targets",
    "ScheduleExpression",
    "OutputLocation",
    "AssociationName",
    "AutomationTargetParameterName",
    "MaxErrors",
    "MaxConcurrency",
    "ComplianceSeverity",
    "SyncCompliance",
    "ApplyOnlyAtCronInterval",
    "CalendarNames",
    "TargetLocations",
    "ScheduleOffset",
    "Duration",
    "TargetMaps",
    "AlarmConfiguration",
    "AssociationDispatchAssumeRole",
)
# Members an UpdateAssociation keeps when the request leaves them out; AWS resets the others.
KEPT_ON_UPDATE = ("Name", "InstanceId", "Targets", "DocumentVersion")
SUMMARY_FIELDS = (
    "Name",
    "InstanceId",
    "AssociationId",
    "AssociationVersion",
    "DocumentVersion",
    "Targets",
    "Overview",
    "ScheduleExpression",
    "AssociationName",
    "ScheduleOffset",
    "Duration",
    "TargetMaps",
)


@dataclass
class Association:
    """One State Manager association: its request members plus what SSM adds."""

    association_id: str
    version: int
    members: Json
    created: dt.datetime
    updated: dt.datetime

    def description(self) -> Json:
        """The ``AssociationDescription`` document (CreateAssociation / DescribeAssociation)."""
        body: Json = {key: value for key, value in self.members.items() if value is not None}
        body.update(
            {
                "AssociationId": self.association_id,
                "AssociationVersion": str(self.version),
                "Date": self.created,
                "LastUpdateAssociationDate": self.updated,
                "Status": {
                    "Date": self.updated,
                    "Name": "Pending",
                    "Message": "Associated with " + str(self.members["Name"]),
                },
                "Overview": {"Status": "Pending", "DetailedStatus": "Creating"},
            }
        )
        body.setdefault("DocumentVersion", "$DEFAULT")
        return body

    def summary(self) -> Json:
        """The ``Association`` list item of ListAssociations."""
        full = self.description()
        return {key: full[key] for key in SUMMARY_FIELDS if key in full}


@dataclass
class DataSync:
    """One Resource Data Sync."""

    name: str
    sync_type: str
    s3_destination: Json | None
    sync_source: Json | None
    created: dt.datetime

    def item(self) -> Json:
        """The ``ResourceDataSyncItem`` of ListResourceDataSync."""
        body: Json = {
            "SyncName": self.name,
            "SyncType": self.sync_type,
            "SyncCreatedTime": self.created,
            "SyncLastModifiedTime": self.created,
            "LastStatus": "InProgress",
        }
        if self.s3_destination is not None:
            body["S3Destination"] = self.s3_destination
        if self.sync_source is not None:
            body["SyncSource"] = dict(self.sync_source, State="Pending")
        return body


@dataclass
class Activation:
    """One hybrid activation (the code that registers on-premises and Azure servers as ``mi-``)."""

    activation_id: str
    code: str
    iam_role: str
    registration_limit: int
    expiration: dt.datetime
    created: dt.datetime
    description: str | None = None
    default_instance_name: str | None = None
    tags: list[Json] = field(default_factory=list)
    # nodes registered with it so far (the agent's hybrid registration increments it)
    registrations_count: int = 0

    def item(self) -> Json:
        """The ``Activation`` item of DescribeActivations."""
        body: Json = {
            "ActivationId": self.activation_id,
            "IamRole": self.iam_role,
            "RegistrationLimit": self.registration_limit,
            "RegistrationsCount": self.registrations_count,
            "ExpirationDate": self.expiration,
            "Expired": self.expiration <= _now(),
            "CreatedDate": self.created,
            "Tags": self.tags,
        }
        if self.description is not None:
            body["Description"] = self.description
        if self.default_instance_name is not None:
            body["DefaultInstanceName"] = self.default_instance_name
        return body


@dataclass
class ExtensionState:
    """What the emulated calls keep for one account and region."""

    associations: dict[str, Association] = field(default_factory=dict)
    data_syncs: dict[str, DataSync] = field(default_factory=dict)
    activations: dict[str, Activation] = field(default_factory=dict)
    # patch group name -> operating system -> baseline id
    patch_groups: dict[str, dict[str, str]] = field(default_factory=dict)
    # baseline id -> (created, modified)
    baseline_dates: dict[str, tuple[dt.datetime, dt.datetime]] = field(default_factory=dict)


def state_of(backend: SimpleSystemManagerBackend) -> ExtensionState:
    """The extension state kept on moto's SSM ``backend`` (created on first use)."""
    state = backend.__dict__.get("fleetpatch_ext")
    if not isinstance(state, ExtensionState):
        state = ExtensionState()
        backend.__dict__["fleetpatch_ext"] = state
    return state


def extension_state(account_id: str, region: str) -> ExtensionState:
    """The extension state of ``account_id`` (12 digits) in ``region`` (e.g. ``us-west-2``)."""
    return state_of(ssm_backends[account_id][region])


# --- helpers ------------------------------------------------------------------------------------
def _association(state: ExtensionState, association_id: str | None) -> Association:
    found = state.associations.get(association_id or "")
    if found is None:
        raise EmulatedError("AssociationDoesNotExist", "The specified association does not exist.")
    return found


def _document_exists(backend: SimpleSystemManagerBackend, name: str) -> bool:
    # AWS-owned documents (AWS-RunPatchBaseline, AWS-GatherSoftwareInventory, ...) always exist;
    # moto does not ship them, so the "AWS"/"Amazon" owner prefixes stand in for them.
    if name.startswith(("AWS-", "AWSEC2-", "AWSSupport-", "AWSConfigRemediation-", "Amazon")):
        return True
    document_name = name.rsplit("/", 1)[-1] if name.startswith("arn:") else name
    return document_name in backend._documents


def _check_association_members(backend: SimpleSystemManagerBackend, members: Json) -> None:
    name = members.get("Name")
    if name is not None and not _document_exists(backend, name):
        raise EmulatedError("InvalidDocument", f"Document {name} does not exist.")
    schedule = members.get("ScheduleExpression")
    if schedule is not None:
        problem = schedule_problem(schedule)
        if problem:
            raise EmulatedError("InvalidSchedule", problem)
    if members.get("ScheduleOffset") is not None and not members.get("ApplyOnlyAtCronInterval"):
        raise EmulatedError(
            "InvalidSchedule", "ScheduleOffset requires ApplyOnlyAtCronInterval to be true."
        )
    if members.get("InstanceId") and members.get("Targets"):
        raise EmulatedError("InvalidTarget", "InstanceId and Targets cannot both be specified.")
    location = (members.get("OutputLocation") or {}).get("S3Location")
    if location is not None and not location.get("OutputS3BucketName"):
        raise EmulatedError("InvalidOutputLocation", "The output location must name an S3 bucket.")


def _patch_baseline(backend: SimpleSystemManagerBackend, baseline_id: str) -> Any:
    baseline = backend.baselines.get(baseline_id)
    if baseline is None:
        raise EmulatedError(
            "DoesNotExistException", f"Patch Baseline {baseline_id} does not exist."
        )
    return baseline


def _baseline_dates(state: ExtensionState, baseline_id: str) -> tuple[dt.datetime, dt.datetime]:
    if baseline_id not in state.baseline_dates:
        stamp = _now()
        state.baseline_dates[baseline_id] = (stamp, stamp)
    return state.baseline_dates[baseline_id]


def _baseline_body(state: ExtensionState, baseline: Any) -> Json:
    created, modified = _baseline_dates(state, baseline.id)
    body: Json = {
        "BaselineId": baseline.id,
        "Name": baseline.name,
        "OperatingSystem": baseline.operating_system,
        "GlobalFilters": baseline.global_filters or {"PatchFilters": []},
        "ApprovalRules": baseline.approval_rules or {"PatchRules": []},
        "ApprovedPatches": baseline.approved_patches or [],
        "ApprovedPatchesComplianceLevel": baseline.approved_patches_compliance_level
        or "UNSPECIFIED",
        "ApprovedPatchesEnableNonSecurity": bool(baseline.approved_patches_enable_non_security),
        "RejectedPatches": baseline.rejected_patches or [],
        "RejectedPatchesAction": baseline.rejected_patches_action or "ALLOW_AS_DEPENDENCY",
        "CreatedDate": created,
        "ModifiedDate": modified,
        "Sources": baseline.sources or [],
    }
    if baseline.description is not None:
        body["Description"] = baseline.description
    compliance = getattr(baseline, "fleetpatch_available_security_updates", None)
    if compliance is not None:
        body["AvailableSecurityUpdatesComplianceStatus"] = compliance
    return body


def _baseline_identity(baseline: Any) -> Json:
    identity: Json = {
        "BaselineId": baseline.id,
        "BaselineName": baseline.name,
        "OperatingSystem": baseline.operating_system,
        "DefaultBaseline": bool(baseline.default_baseline),
    }
    if baseline.description:
        identity["BaselineDescription"] = baseline.description
    return identity


def _role_trusts_ssm(account_id: str, role: str) -> bool:
    name = role.rsplit("/", 1)[-1]
    for candidate in iam_backends[account_id]["global"].roles.values():
        if candidate.name == name:
            return "ssm.amazonaws.com" in json.dumps(candidate.assume_role_policy_document)
    return False


# --- the emulated operations (methods added to moto's SimpleSystemManagerResponse) --------------
class _Operations:
    """Response methods; :func:`install` copies them onto ``SimpleSystemManagerResponse``.

    Each method reads the JSON request, checks it against the botocore input shape, acts on the
    extension state of the request's account and region, and returns an ``ActionResult`` that
    moto serialises with the operation's output shape.
    """

    body: Any
    current_account: str
    region: str

    def _request(self, operation: str) -> Json:
        return parse_request("ssm", operation, self.body)

    @property
    def _backend(self) -> SimpleSystemManagerBackend:
        return ssm_backends[self.current_account][self.region]

    @property
    def _state(self) -> ExtensionState:
        return state_of(self._backend)

    # associations --------------------------------------------------------------------------
    def create_association(self) -> ActionResult:
        params = self._request("CreateAssociation")
        members = {key: params.get(key) for key in ASSOCIATION_FIELDS}
        members["ApplyOnlyAtCronInterval"] = bool(members["ApplyOnlyAtCronInterval"])
        _check_association_members(self._backend, members)
        state = self._state
        name = members.get("AssociationName")
        if name and any(
            item.members.get("AssociationName") == name for item in state.associations.values()
        ):
            raise EmulatedError("AssociationAlreadyExists", f"Association {name} already exists.")
        stamp = _now()
        association = Association(str(uuid.uuid4()), 1, members, stamp, stamp)
        state.associations[association.association_id] = association
        tags = params.get("Tags") or []
        if tags:
            self._backend.add_tags_to_resource(
                "Association", association.association_id, {t["Key"]: t["Value"] for t in tags}
            )
        return ActionResult({"AssociationDescription": association.description()})

    def describe_association(self) -> ActionResult:
        params = self._request("DescribeAssociation")
        state = self._state
        association_id = params.get("AssociationId")
        if association_id is None and params.get("Name") and params.get("InstanceId"):
            for candidate in state.associations.values():
                if (candidate.members.get("Name"), candidate.members.get("InstanceId")) == (
                    params["Name"],
                    params["InstanceId"],
                ):
                    association_id = candidate.association_id
        association = _association(state, association_id)
        version = params.get("AssociationVersion")
        if version not in (None, "$LATEST", str(association.version)):
            raise EmulatedError(
                "InvalidAssociationVersion",
                f"Association version {version} does not exist for {association.association_id}.",
            )
        return ActionResult({"AssociationDescription": association.description()})

    def update_association(self) -> ActionResult:
        params = self._request("UpdateAssociation")
        association = _association(self._state, params["AssociationId"])
        version = params.get("AssociationVersion")
        if version not in (None, "$LATEST", str(association.version)):
            raise EmulatedError(
                "InvalidAssociationVersion",
                f"Association version {version} is not the latest of {association.association_id}.",
            )
        members = {key: params.get(key) for key in ASSOCIATION_FIELDS}
        for key in KEPT_ON_UPDATE:
            if members[key] is None:
                members[key] = association.members.get(key)
        members["ApplyOnlyAtCronInterval"] = bool(members["ApplyOnlyAtCronInterval"])
        _check_association_members(self._backend, members)
        name = members.get("AssociationName")
        if name and any(
            item.members.get("AssociationName") == name
            and item.association_id != association.association_id
            for item in self._state.associations.values()
        ):
            raise EmulatedError("InvalidUpdate", f"Association name {name} is already in use.")
        association.members = members
        association.version += 1
        association.updated = _now()
        return ActionResult({"AssociationDescription": association.description()})

    def delete_association(self) -> ActionResult:
        params = self._request("DeleteAssociation")
        state = self._state
        association_id = params.get("AssociationId")
        if association_id is None and params.get("Name") and params.get("InstanceId"):
            for candidate in state.associations.values():
                if (candidate.members.get("Name"), candidate.members.get("InstanceId")) == (
                    params["Name"],
                    params["InstanceId"],
                ):
                    association_id = candidate.association_id
        association = _association(state, association_id)
        del state.associations[association.association_id]
        self._backend._resource_tags["Association"].pop(association.association_id, None)
        return EmptyResult()

    def list_associations(self) -> ActionResult:
        params = self._request("ListAssociations")
        supported = {"Name", "AssociationName", "AssociationId", "InstanceId"}
        items = sorted(self._state.associations.values(), key=lambda a: a.created)
        for flt in params.get("AssociationFilterList") or []:
            if flt["key"] not in supported:
                raise EmulatedError(
                    "ValidationException",
                    f"The emulator filters associations by {sorted(supported)} only.",
                )
            items = [
                item
                for item in items
                if (
                    item.association_id
                    if flt["key"] == "AssociationId"
                    else item.members.get(flt["key"])
                )
                == flt["value"]
            ]
        found, extra = page([item.summary() for item in items], params)
        return ActionResult({"Associations": found, **extra})

    # resource data sync --------------------------------------------------------------------
    def create_resource_data_sync(self) -> ActionResult:
        params = self._request("CreateResourceDataSync")
        state = self._state
        name = params["SyncName"]
        sync_type = params.get("SyncType") or "SyncToDestination"
        destination = params.get("S3Destination")
        source = params.get("SyncSource")
        if sync_type == "SyncToDestination":
            if destination is None or source is not None:
                raise EmulatedError(
                    "ResourceDataSyncInvalidConfigurationException",
                    "A SyncToDestination sync needs S3Destination and no SyncSource.",
                )
        elif sync_type == "SyncFromSource":
            if source is None or destination is not None:
                raise EmulatedError(
                    "ResourceDataSyncInvalidConfigurationException",
                    "A SyncFromSource sync needs SyncSource and no S3Destination.",
                )
        else:
            raise EmulatedError(
                "ResourceDataSyncInvalidConfigurationException",
                f"Sync type {sync_type} is not SyncToDestination or SyncFromSource.",
            )
        if name in state.data_syncs:
            raise EmulatedError(
                "ResourceDataSyncAlreadyExistsException", f"Sync {name} already exists."
            )
        if len(state.data_syncs) >= MAX_RESOURCE_DATA_SYNCS:
            raise EmulatedError(
                "ResourceDataSyncCountExceededException",
                f"An account can have {MAX_RESOURCE_DATA_SYNCS} resource data syncs per region.",
            )
        state.data_syncs[name] = DataSync(name, sync_type, destination, source, _now())
        return EmptyResult()

    def list_resource_data_sync(self) -> ActionResult:
        params = self._request("ListResourceDataSync")
        wanted = params.get("SyncType")
        items = [
            sync.item()
            for sync in self._state.data_syncs.values()
            if wanted is None or sync.sync_type == wanted
        ]
        found, extra = page(items, params)
        return ActionResult({"ResourceDataSyncItems": found, **extra})

    def delete_resource_data_sync(self) -> ActionResult:
        params = self._request("DeleteResourceDataSync")
        state = self._state
        sync = state.data_syncs.get(params["SyncName"])
        if sync is None or (params.get("SyncType") not in (None, sync.sync_type)):
            raise EmulatedError(
                "ResourceDataSyncNotFoundException",
                f"Sync {params['SyncName']} does not exist.",
            )
        del state.data_syncs[sync.name]
        return EmptyResult()

    # patch baselines and patch groups ------------------------------------------------------
    def get_patch_baseline(self) -> ActionResult:
        params = self._request("GetPatchBaseline")
        baseline = _patch_baseline(self._backend, params["BaselineId"])
        body = _baseline_body(self._state, baseline)
        body["PatchGroups"] = sorted(
            group
            for group, by_os in self._state.patch_groups.items()
            if baseline.id in by_os.values()
        )
        return ActionResult(body)

    def update_patch_baseline(self) -> ActionResult:
        params = self._request("UpdatePatchBaseline")
        baseline = _patch_baseline(self._backend, params["BaselineId"])
        replace = bool(params.get("Replace"))
        attributes = {
            "Name": "name",
            "GlobalFilters": "global_filters",
            "ApprovalRules": "approval_rules",
            "ApprovedPatches": "approved_patches",
            "ApprovedPatchesComplianceLevel": "approved_patches_compliance_level",
            "ApprovedPatchesEnableNonSecurity": "approved_patches_enable_non_security",
            "RejectedPatches": "rejected_patches",
            "RejectedPatchesAction": "rejected_patches_action",
            "Description": "description",
            "Sources": "sources",
            "AvailableSecurityUpdatesComplianceStatus": "fleetpatch_available_security_updates",
        }
        for member, attribute in attributes.items():
            if member in params:
                setattr(baseline, attribute, params[member])
            elif replace and member != "Name":
                setattr(baseline, attribute, None)
        created, _ = _baseline_dates(self._state, baseline.id)
        self._state.baseline_dates[baseline.id] = (created, _now())
        return ActionResult(_baseline_body(self._state, baseline))

    def delete_patch_baseline(self) -> ActionResult:
        params = self._request("DeletePatchBaseline")
        baseline_id = params["BaselineId"]
        in_use = sorted(
            group
            for group, by_os in self._state.patch_groups.items()
            if baseline_id in by_os.values()
        )
        if in_use:
            raise EmulatedError(
                "ResourceInUseException",
                f"Patch baseline {baseline_id} is registered with patch groups {in_use}.",
            )
        # Deleting an unknown baseline succeeds in AWS too (the call is idempotent).
        self._backend.baselines.pop(baseline_id, None)
        self._state.baseline_dates.pop(baseline_id, None)
        self._backend._resource_tags["PatchBaseline"].pop(baseline_id, None)
        return ActionResult({"BaselineId": baseline_id})

    def register_patch_baseline_for_patch_group(self) -> ActionResult:
        params = self._request("RegisterPatchBaselineForPatchGroup")
        baseline = _patch_baseline(self._backend, params["BaselineId"])
        group = params["PatchGroup"]
        by_os = self._state.patch_groups.setdefault(group, {})
        current = by_os.get(baseline.operating_system)
        if current is not None and current != baseline.id:
            raise EmulatedError(
                "AlreadyExistsException",
                f"Patch Group {group} is already registered with baseline {current} for "
                f"operating system {baseline.operating_system}.",
            )
        by_os[baseline.operating_system] = baseline.id
        return ActionResult({"BaselineId": baseline.id, "PatchGroup": group})

    def deregister_patch_baseline_for_patch_group(self) -> ActionResult:
        params = self._request("DeregisterPatchBaselineForPatchGroup")
        baseline_id, group = params["BaselineId"], params["PatchGroup"]
        by_os = self._state.patch_groups.get(group, {})
        system = next((os for os, bid in by_os.items() if bid == baseline_id), None)
        if system is None:
            # The error the operation's model lists for an unknown pair.
            raise EmulatedError(
                "InvalidResourceId",
                f"Patch Group {group} is not registered with baseline {baseline_id}.",
            )
        del by_os[system]
        if not by_os:
            del self._state.patch_groups[group]
        return ActionResult({"BaselineId": baseline_id, "PatchGroup": group})

    def get_patch_baseline_for_patch_group(self) -> ActionResult:
        params = self._request("GetPatchBaselineForPatchGroup")
        group = params["PatchGroup"]
        system = params.get("OperatingSystem") or "WINDOWS"
        baseline_id = self._state.patch_groups.get(group, {}).get(system)
        if baseline_id is None:
            # Not registered: the default baseline of the operating system (moto's table).
            baseline_id, _, _ = self._backend.get_patch_baseline_for_patch_group(
                patch_group=f"fleetpatch-unregistered-{uuid.uuid4()}", operating_system=system
            )
        return ActionResult(
            {"BaselineId": baseline_id, "PatchGroup": group, "OperatingSystem": system}
        )

    def describe_patch_groups(self) -> ActionResult:
        params = self._request("DescribePatchGroups")
        baselines = self._backend.baselines
        mappings: list[Json] = [
            {"PatchGroup": group, "BaselineIdentity": _baseline_identity(baselines[bid])}
            for group, by_os in sorted(self._state.patch_groups.items())
            for bid in by_os.values()
            if bid in baselines
        ]
        for flt in params.get("Filters") or []:
            key, values = flt.get("Key"), flt.get("Values") or []
            if key == "NAME_PREFIX":
                mappings = [m for m in mappings if m["PatchGroup"].startswith(tuple(values))]
            elif key == "OPERATING_SYSTEM":
                mappings = [
                    m for m in mappings if m["BaselineIdentity"]["OperatingSystem"] in values
                ]
            else:
                raise EmulatedError(
                    "ValidationException",
                    f"Filter key {key} is not NAME_PREFIX or OPERATING_SYSTEM.",
                )
        found, extra = page(mappings, params, default_size=100)
        return ActionResult({"Mappings": found, **extra})

    # hybrid activations --------------------------------------------------------------------
    def create_activation(self) -> ActionResult:
        params = self._request("CreateActivation")
        role = params["IamRole"]
        if not _role_trusts_ssm(self.current_account, role):
            raise EmulatedError(
                "ValidationException",
                f"Nonexistent role or missing ssm service principal in trust policy: {role}",
            )
        stamp = _now()
        expiration = (
            _epoch(params["ExpirationDate"])
            if params.get("ExpirationDate") is not None
            else stamp + dt.timedelta(hours=DEFAULT_ACTIVATION_HOURS)
        )
        if expiration <= stamp:
            raise EmulatedError("InvalidParameters", "ExpirationDate must be in the future.")
        alphabet = string.ascii_letters + string.digits
        activation = Activation(
            activation_id=str(uuid.uuid4()),
            code="".join(secrets.choice(alphabet) for _ in range(20)),
            iam_role=role,
            registration_limit=int(params.get("RegistrationLimit") or 1),
            expiration=expiration,
            created=stamp,
            description=params.get("Description"),
            default_instance_name=params.get("DefaultInstanceName"),
            tags=list(params.get("Tags") or []),
        )
        self._state.activations[activation.activation_id] = activation
        return ActionResult(
            {"ActivationId": activation.activation_id, "ActivationCode": activation.code}
        )

    def describe_activations(self) -> ActionResult:
        params = self._request("DescribeActivations")
        items = sorted(self._state.activations.values(), key=lambda a: a.created)
        keys: dict[str, Callable[[Activation], str | None]] = {
            "ActivationIds": lambda a: a.activation_id,
            "DefaultInstanceName": lambda a: a.default_instance_name,
            "IamRole": lambda a: a.iam_role,
        }
        for flt in params.get("Filters") or []:
            pick = keys.get(flt.get("FilterKey", ""))
            if pick is None:
                raise EmulatedError(
                    "InvalidFilter", f"Filter key {flt.get('FilterKey')} is not valid."
                )
            values: Iterable[str] = flt.get("FilterValues") or []
            wanted = set(values)
            items = [item for item in items if pick(item) in wanted]
        found, extra = page([item.item() for item in items], params)
        return ActionResult({"ActivationList": found, **extra})

    def delete_activation(self) -> ActionResult:
        params = self._request("DeleteActivation")
        if self._state.activations.pop(params["ActivationId"], None) is None:
            raise EmulatedError("InvalidActivation", "The activation ID is not valid.")
        return EmptyResult()


# --- installation -------------------------------------------------------------------------------
_ORIGINAL_VALIDATE: Any = None


def _validate_resource_type_and_id(
    self: SimpleSystemManagerBackend, resource_type: str, resource_id: str
) -> str:
    """moto's tag-target check, extended with the PatchBaseline and Association types."""
    if resource_type == "PatchBaseline":
        if resource_id not in self.baselines:
            raise EmulatedError("InvalidResourceId", "Invalid Resource Id")
        return resource_id
    if resource_type == "Association":
        if resource_id not in state_of(self).associations:
            raise EmulatedError("InvalidResourceId", "Invalid Resource Id")
        return resource_id
    result: str = _ORIGINAL_VALIDATE(self, resource_type, resource_id)
    return result


def install() -> None:
    """Add the emulated SSM operations to moto (idempotent; call before serving requests).

    Works both for ``moto.server`` (the subprocess started by :mod:`tests.emulator.launcher`)
    and for ``moto.mock_aws`` in unit tests: both dispatch to ``SimpleSystemManagerResponse``.
    """
    global _ORIGINAL_VALIDATE  # noqa: PLW0603 - patched once per process
    for operation in OPERATIONS:
        method = snake(operation)
        setattr(SimpleSystemManagerResponse, method, getattr(_Operations, method))
    for helper in ("_request", "_backend", "_state"):
        setattr(SimpleSystemManagerResponse, helper, _Operations.__dict__[helper])
    if _ORIGINAL_VALIDATE is None:
        _ORIGINAL_VALIDATE = SimpleSystemManagerBackend._validate_resource_type_and_id
        setattr(  # noqa: B010 - replacing a method of moto's class
            SimpleSystemManagerBackend,
            "_validate_resource_type_and_id",
            _validate_resource_type_and_id,
        )
