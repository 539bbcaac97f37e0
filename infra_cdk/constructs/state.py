"""State: the DynamoDB tables declared in the wiring and the artifacts bucket."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from atende_shared.resources import Bucket, Table
from functions.wiring_model import TableSpec
from infra_cdk import constants


class State(Construct):
    """Tables (on-demand, PITR, TTL, GSIs) and the artifacts bucket (+ its access logs).

    No customer-managed KMS key: AWS-owned/S3-managed encryption covers the threat model
    (data at rest on AWS media) at no cost; a CMK would add a per-request charge and a key
    policy to maintain without a cross-account or crypto-shredding need to pay for it.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        tables: tuple[TableSpec, ...],
        buckets: tuple[Bucket, ...],
    ) -> None:
        super().__init__(scope, construct_id)
        self.tables: dict[Table, dynamodb.Table] = {
            spec.name: self._table(spec, stage) for spec in tables
        }
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(id="expire-logs", expiration=Duration.days(365))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.buckets: dict[Bucket, s3.Bucket] = {bucket: self._bucket(bucket) for bucket in buckets}
        # The key that signs list cursors (atende_shared.pagination): generated here, read by
        # every admin API at first use, never in the template or a function's configuration.
        self.cursor_key = secretsmanager.Secret(
            self,
            "CursorKey",
            secret_name=constants.secret_name(stage, constants.CURSOR_KEY_SECRET),
            description="HMAC key that signs the admin APIs' pagination cursors.",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template="{}",  # noqa: S106 - an empty JSON object
                generate_string_key="key",
                exclude_punctuation=True,
                password_length=64,
            ),
        )

    def _table(self, spec: TableSpec, stage: str) -> dynamodb.Table:
        table = dynamodb.Table(
            self,
            f"{spec.name.value.capitalize()}Table",
            table_name=constants.physical_name(stage, spec.name.value),
            partition_key=dynamodb.Attribute(
                name=spec.partition_key, type=dynamodb.AttributeType.STRING
            ),
            sort_key=(
                dynamodb.Attribute(name=spec.sort_key, type=dynamodb.AttributeType.STRING)
                if spec.sort_key
                else None
            ),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=spec.ttl_attribute,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        for index_name, pk, sk in spec.gsis:
            table.add_global_secondary_index(
                index_name=index_name,
                partition_key=dynamodb.Attribute(name=pk, type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name=sk, type=dynamodb.AttributeType.STRING),
                projection_type=dynamodb.ProjectionType.ALL,
            )
        return table

    def _bucket(self, bucket: Bucket) -> s3.Bucket:
        return s3.Bucket(
            self,
            f"{bucket.value.capitalize()}Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            # Transcripts and statements are records: an overwrite or a bad write keeps the
            # previous version, kept NONCURRENT_VERSION_DAYS, then expired.
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"{bucket.value}/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="transcripts-to-ia",
                    prefix=constants.TRANSCRIPTS_PREFIX,
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                            transition_after=Duration.days(constants.TRANSCRIPTS_TO_IA_DAYS),
                        )
                    ],
                ),
                s3.LifecycleRule(
                    id="expire-quarantine",
                    prefix=constants.QUARANTINE_PREFIX,
                    expiration=Duration.days(constants.QUARANTINE_EXPIRY_DAYS),
                ),
                s3.LifecycleRule(
                    id="expire-noncurrent-versions",
                    noncurrent_version_expiration=Duration.days(constants.NONCURRENT_VERSION_DAYS),
                    expired_object_delete_marker=True,
                ),
                s3.LifecycleRule(
                    id="abort-incomplete-uploads",
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                ),
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
