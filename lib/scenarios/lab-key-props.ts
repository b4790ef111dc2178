/** What every lab key is given, whatever its scenario. */
export interface LabKeyProps {
  /** The alias; the same name in every Region where the scenario has a key. */
  readonly aliasName: string;
  /** Principals that manage the key and are denied its cryptographic use. */
  readonly adminArns: readonly string[];
  /** Principals that use the key and cannot manage it. */
  readonly userArns: readonly string[];
  /** Days between `cdk destroy` and the key's deletion (7 to 30). */
  readonly pendingWindowDays: number;
}

/** Keys whose material KMS generates and rotates. */
export interface RotatedLabKeyProps extends LabKeyProps {
  /** Days between automatic rotations (90 to 2560). */
  readonly rotationPeriodDays: number;
}
