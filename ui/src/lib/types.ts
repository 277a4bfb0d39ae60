// Friendlier names for the shapes the backend sends (the generated bindings suffix
// each with `_Serialize`, the side the UI receives).

export type {
  Access,
  Backups,
  Capability,
  EnvironmentInfo,
  Finding,
  Keep,
  Kind as SnapshotKind,
  Level as FindingLevel,
  ProjectInfo,
  Role,
  RoleRow,
  ScopeDto as Scope,
  Setting,
  SetOutcome,
  TeamState_Serialize as TeamState,
  InvitationDto as Invitation,
  InvitedDto as Invited,
  TrailCopy,
  TrailMark_Serialize as TrailMark,
  TrailState_Serialize as TrailState,
  EnvState,
  AuditEvent_Serialize as AuditEvent,
  AuditFilterDto_Serialize as AuditFilter,
  Checkpoint_Serialize as Checkpoint,
  MemberInfo_Serialize as Member,
  OneTimePassphrase,
  RestoreOutcome_Serialize as RestoreOutcome,
  SavedTrail,
  SecretDetail_Serialize as SecretDetail,
  Snapshot,
  UnlockResult_Serialize as UnlockResult,
  VaultStatus_Serialize as VaultStatus,
  VerifyReport_Serialize as VerifyReport,
  VersionInfo_Serialize as Version,
  WorkspaceInfo_Serialize as Workspace,
} from "../bindings";
export type { EnvStatus, Secret } from "./secretList";

export const ROLES = ["viewer", "developer", "admin", "auditor", "owner"] as const;
