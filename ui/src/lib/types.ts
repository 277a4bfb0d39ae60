// Friendlier names for the shapes the backend sends (the generated bindings suffix
// each with `_Serialize`, the side the UI receives).

export type {
  Access,
  Capability,
  EnvironmentInfo,
  ProjectInfo,
  Role,
  RoleRow,
  ScopeDto as Scope,
  Setting,
  SetOutcome,
  EnvState,
  AuditEvent_Serialize as AuditEvent,
  AuditFilterDto_Serialize as AuditFilter,
  EnvStatus_Serialize as EnvStatus,
  MemberInfo_Serialize as Member,
  SecretDetail_Serialize as SecretDetail,
  SecretSummary_Serialize as Secret,
  VaultStatus_Serialize as VaultStatus,
  VerifyReport_Serialize as VerifyReport,
  VersionInfo_Serialize as Version,
  WorkspaceInfo_Serialize as Workspace,
} from "../bindings";

export const ROLES = ["viewer", "developer", "admin", "auditor", "owner"] as const;
