// The kernel ABI (stream table, parameter block, modes, flags, status), defined once in src/core/abi.ts for both
// compilers; see there.
export * from '../src/core/abi';
