"""The AWS Batch verbs kubatch implements, with the AWS CLI's flag names.

Each flag maps to the request field of the same name in camelCase. Kinds say how a
value is read (see ``values``); structured flags take JSON or shorthand. Flags the
AWS CLI has for AWS-only settings (``--service-role``, ``--unmanagedv-cpus``…) are
accepted so existing commands run; the service warns that it ignores them.
"""

from __future__ import annotations

from kubatch.api import BatchJobSpec, ComputeEnvironmentSpec, JobDefinitionSpec, JobQueueSpec, SchedulingPolicySpec
from kubatch.cli.job_verbs import SUBMIT_EXTRAS, wait_after_submit
from kubatch.cli.values import Kind
from kubatch.cli.verbs import Flag, Verb

# short names keep the table below one flag per line
S, I, B, L, M, T, TL = (Kind.STRING, Kind.INTEGER, Kind.BOOLEAN, Kind.STRINGS, Kind.MAP, Kind.STRUCTURE,
                        Kind.STRUCTURES)

PAGE = (
    Flag("max-results", I, "one page of at most this many results", aliases=("max-items",)),
    Flag("next-token", S, "the page after this token", aliases=("starting-token",)),
)
FILTERS_SCHEMA = {"type": "array", "items": {"type": "object", "properties": {
    "name": {"type": "string"}, "values": {"type": "array", "items": {"type": "string"}}}}}
TAGS = Flag("tags", M, "key=value tags")

JOB_VERBS = (
    Verb("submit-job", "Submit a job to a job queue (SubmitJob).", (
        Flag("job-name", S, "name of the job (AWS names need not be unique)"),
        Flag("job-queue", S, "job queue name or ARN"),
        Flag("job-definition", S, "name, name:revision or ARN"),
        Flag("share-identifier"),
        Flag("scheduling-priority-override", I),
        Flag("array-properties", T, "size=N for an array job"),
        Flag("depends-on", TL, "jobId=ID[,type=N_TO_N|SEQUENTIAL] ..."),
        Flag("parameters", M, "name=value,... for Ref::name in the command"),
        Flag("container-overrides", T),
        Flag("node-overrides", T),
        Flag("retry-strategy", T, "attempts=N[,evaluateOnExit=[{...}]]"),
        Flag("propagate-tags", B),
        Flag("timeout", T, "attemptDurationSeconds=N"),
        TAGS,
        Flag("eks-properties-override", T),
        Flag("ecs-properties-override", T, "not supported (refused)"),
    ), model=BatchJobSpec, extras=SUBMIT_EXTRAS, follow_up=wait_after_submit),
    Verb("describe-jobs", "Describe jobs by id, name or ARN; JOB:INDEX for an array child (DescribeJobs).", (
        Flag("jobs", L, "job ids, names or ARNs"),
    )),
    Verb("list-jobs", "List jobs of a queue, an array or a multi-node job (ListJobs; RUNNING ones by default).", (
        Flag("job-queue", S, "job queue name or ARN (default: every queue)"),
        Flag("array-job-id", S, "list the children of this array job"),
        Flag("multi-node-job-id", S, "list the nodes of this multi-node job"),
        Flag("job-status", S, "SUBMITTED, PENDING, RUNNABLE, STARTING, RUNNING, SUCCEEDED or FAILED"),
        Flag("filters", TL, "name=JOB_NAME|JOB_DEFINITION|BEFORE_CREATED_AT|AFTER_CREATED_AT,values=V",
             schema=FILTERS_SCHEMA),
        *PAGE,
    ), list_key="jobSummaryList"),
    Verb("cancel-job", "Cancel a job that has not started (CancelJob).", (
        Flag("job-id", S, "job id, name or ARN"), Flag("reason"),
    )),
    Verb("terminate-job", "Stop a job, running or not (TerminateJob).", (
        Flag("job-id", S, "job id, name or ARN"), Flag("reason"),
    )),
    Verb("cancel-jobs", "Cancel up to 50 jobs that have not started (CancelJobs).", (
        Flag("jobs", L, "job ids, names or ARNs"), Flag("reason"),
    )),
    Verb("terminate-jobs", "Stop up to 50 jobs, running or not (TerminateJobs).", (
        Flag("jobs", L, "job ids, names or ARNs"), Flag("reason"),
    )),
)

DEFINITION_VERBS = (
    Verb("register-job-definition", "Register a job definition or a new revision of it (RegisterJobDefinition).", (
        Flag("job-definition-name"),
        Flag("type", S, "container or multinode"),
        Flag("parameters", M),
        Flag("scheduling-priority", I),
        Flag("container-properties", T),
        Flag("node-properties", T),
        Flag("retry-strategy", T),
        Flag("propagate-tags", B),
        Flag("timeout", T),
        TAGS,
        Flag("platform-capabilities", L, "EC2 and/or FARGATE"),
        Flag("eks-properties", T),
        Flag("ecs-properties", T, "not supported (refused)"),
    ), model=JobDefinitionSpec),
    Verb("describe-job-definitions", "Describe job definitions and their revisions (DescribeJobDefinitions).", (
        Flag("job-definitions", L, "name:revision, name or ARN ..."),
        Flag("job-definition-name"),
        Flag("status", S, "ACTIVE or INACTIVE"),
        *PAGE,
    ), list_key="jobDefinitions"),
    Verb("deregister-job-definition", "Deregister (delete) a job definition (DeregisterJobDefinition).", (
        Flag("job-definition", S, "name, name:revision or ARN"),
    )),
)

QUEUE_FIELDS = (
    Flag("state", S, "ENABLED or DISABLED"),
    Flag("scheduling-policy-arn", S, "scheduling policy name or ARN"),
    Flag("priority", I),
    Flag("compute-environment-order", TL, "order=N,computeEnvironment=NAME ..."),
    Flag("job-state-time-limit-actions", TL),
    Flag("namespace-selector", T, "kubatch: namespaces allowed to submit (label selector)"),
)
QUEUE_VERBS = (
    Verb("create-job-queue", "Create a job queue (CreateJobQueue).", (
        Flag("job-queue-name"), *QUEUE_FIELDS, TAGS,
    ), model=JobQueueSpec),
    Verb("update-job-queue", "Update a job queue (UpdateJobQueue).", (
        Flag("job-queue", S, "name or ARN"), *QUEUE_FIELDS,
    ), model=JobQueueSpec),
    Verb("describe-job-queues", "Describe job queues (DescribeJobQueues).", (
        Flag("job-queues", L, "names or ARNs (default: all)"), *PAGE,
    ), list_key="jobQueues"),
    Verb("delete-job-queue", "Delete a job queue (DeleteJobQueue).", (Flag("job-queue", S, "name or ARN"),)),
    Verb("get-job-queue-snapshot", "The front of a queue in dispatch order and its utilization "
         "(GetJobQueueSnapshot).", (Flag("job-queue", S, "name or ARN"),)),
)

ENVIRONMENT_FIELDS = (
    Flag("state", S, "ENABLED or DISABLED"),
    Flag("unmanagedv-cpus", I, "ignored"),
    Flag("compute-resources", T),
    Flag("service-role", S, "ignored"),
    Flag("allow-privileged", B, "kubatch: allow privileged job containers"),
    Flag("allow-host-path", B, "kubatch: allow job definitions that mount host paths"),
)
ENVIRONMENT_VERBS = (
    Verb("create-compute-environment", "Create a compute environment (CreateComputeEnvironment).", (
        Flag("compute-environment-name"), Flag("type", S, "MANAGED or UNMANAGED"), *ENVIRONMENT_FIELDS, TAGS,
        Flag("eks-configuration", T, "ignored"),
    ), model=ComputeEnvironmentSpec),
    Verb("update-compute-environment", "Update a compute environment (UpdateComputeEnvironment).", (
        Flag("compute-environment", S, "name or ARN"), *ENVIRONMENT_FIELDS, Flag("update-policy", T, "ignored"),
    ), model=ComputeEnvironmentSpec),
    Verb("describe-compute-environments", "Describe compute environments (DescribeComputeEnvironments).", (
        Flag("compute-environments", L, "names or ARNs (default: all)"), *PAGE,
    ), list_key="computeEnvironments"),
    Verb("delete-compute-environment", "Delete a compute environment no queue uses (DeleteComputeEnvironment).", (
        Flag("compute-environment", S, "name or ARN"),
    )),
)

POLICY_VERBS = (
    Verb("create-scheduling-policy", "Create a fair-share scheduling policy (CreateSchedulingPolicy).", (
        Flag("name"), Flag("fairshare-policy", T), TAGS,
    ), model=SchedulingPolicySpec),
    Verb("update-scheduling-policy", "Update a scheduling policy (UpdateSchedulingPolicy).", (
        Flag("arn", S, "name or ARN"), Flag("fairshare-policy", T),
    ), model=SchedulingPolicySpec),
    Verb("describe-scheduling-policies", "Describe scheduling policies (DescribeSchedulingPolicies).", (
        Flag("arns", L, "names or ARNs"),
    )),
    Verb("list-scheduling-policies", "List scheduling policies (ListSchedulingPolicies).", PAGE,
         list_key="schedulingPolicies"),
    Verb("delete-scheduling-policy", "Delete a scheduling policy no queue uses (DeleteSchedulingPolicy).", (
        Flag("arn", S, "name or ARN"),
    )),
)

RESOURCE_ARN = Flag("resource-arn", S, "ARN of a job, job definition, job queue, compute environment or "
                    "scheduling policy")
TAG_VERBS = (
    Verb("tag-resource", "Add or change tags of a resource (TagResource).", (RESOURCE_ARN, TAGS)),
    Verb("untag-resource", "Remove tags from a resource (UntagResource).", (
        RESOURCE_ARN, Flag("tag-keys", L, "the keys to remove"))),
    Verb("list-tags-for-resource", "The tags of a resource (ListTagsForResource).", (RESOURCE_ARN,)),
)

VERBS = (*JOB_VERBS, *DEFINITION_VERBS, *QUEUE_VERBS, *ENVIRONMENT_VERBS, *POLICY_VERBS, *TAG_VERBS)
