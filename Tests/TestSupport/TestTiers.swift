public import Foundation
public import Testing

/// Which tier `make test-unit` or `make test-integration` asked for, through `LIFESTRANDS_TEST_TIER`;
/// unset (`make test`), both run.
public enum TestTier: String, Sendable {
    case unit
    case integration

    public static let selected = ProcessInfo.processInfo.environment["LIFESTRANDS_TEST_TIER"].flatMap(TestTier.init)

    public static func runs(_ tier: TestTier) -> Bool { selected == nil || selected == tier }
}

extension Trait where Self == ConditionTrait {
    /// Needs a model, the built binary, Python or Chromium: `make test-integration` runs it, `make
    /// test-unit` skips it. Give such a suite a `.timeLimit` too, so a hang fails with its name.
    public static var integration: Self {
        .enabled(if: TestTier.runs(.integration), "an integration test (make test-integration)")
    }

    /// Pure: domain, scheduler, parsers, SQLite in memory. `make test-unit` runs it.
    public static var unit: Self { .enabled(if: TestTier.runs(.unit), "a unit test (make test-unit)") }
}
