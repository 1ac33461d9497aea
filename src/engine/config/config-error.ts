/**
 * A problem with the user's pipeline definition or command line. It always
 * says where (file:line:col and the key path, or the CLI argument) so the
 * user can go straight to the fix; the CLI prints it without a stack trace.
 */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly where: string = '',
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'ConfigError';
  }

  format(): string {
    const head = this.where ? `${this.where}: ${this.message}` : this.message;
    return [head, ...this.details.map((d) => `  ${d}`)].join('\n');
  }
}

/** Several independent problems found in one pass, reported together. */
export class ConfigErrors extends ConfigError {
  constructor(readonly errors: ConfigError[]) {
    super(errors.map((e) => e.format()).join('\n'));
    this.name = 'ConfigErrors';
  }

  override format(): string {
    return this.errors.map((e) => e.format()).join('\n');
  }
}
