import EntenteCore
import EntenteTestSupport
import Foundation
import Testing

/// The deterministic simulation: every seed must converge. A failure prints its seed; rerun one seed with
/// `ENTENTE_SEED=<seed> swift test --filter SimulationTests`, or many with `make simulate SEEDS=N`.
@Suite struct SimulationTests {
    static var seeds: [UInt64] {
        let environment = ProcessInfo.processInfo.environment
        if let one = environment["ENTENTE_SEED"].flatMap(UInt64.init) { return [one] }
        let count = environment["ENTENTE_SEEDS"].flatMap(Int.init) ?? 200
        let first = environment["ENTENTE_FIRST_SEED"].flatMap(UInt64.init) ?? 1
        return (0..<UInt64(count)).map { first + $0 }
    }

    @Test func everySeedConverges() {
        var totals = CoreSimulation.Stats()
        var failures: [String] = []
        for seed in Self.seeds {
            var simulation = CoreSimulation(seed: seed, companyCount: 3 + Int(seed % 3), objectCount: 1 + Int(seed % 2))
            let problems = simulation.run(steps: 400)
            if !problems.isEmpty { failures.append("seed \(seed): \(problems.prefix(3).joined(separator: "; "))") }
            totals.operations += simulation.stats.operations
            totals.deliveries += simulation.stats.deliveries
            totals.drops += simulation.stats.drops
            totals.checks += simulation.stats.checks
            totals.hostile += simulation.stats.hostile
            totals.conflicts += simulation.stats.conflicts
            totals.waiting += simulation.stats.waiting
            totals.removals += simulation.stats.removals
            totals.elements += simulation.stats.elements
        }
        #expect(failures.isEmpty, "\(failures.count) seeds failed:\n\(failures.prefix(10).joined(separator: "\n"))")
        #expect(
            totals.operations > Self.seeds.count * 50,
            "the simulation generated too few operations to mean anything"
        )
        if Self.seeds.count >= 50 {
            #expect(
                totals.conflicts > 0 && totals.waiting > 0 && totals.removals > 0 && totals.elements > 0
                    && totals.hostile > 0,
                "the simulation no longer exercises conflicts, waiting parts, removals, sets or hostile writes: \(totals)"
            )
        }
        print(
            "simulation: \(Self.seeds.count) seeds, \(totals.operations) operations, \(totals.deliveries) deliveries, "
                + "\(totals.drops) drops, \(totals.hostile) hostile writes, \(totals.removals) removals, "
                + "\(totals.checks) quiescent checks seeing \(totals.conflicts) conflicted fields, \(totals.waiting) waiting parts, "
                + "\(totals.elements) set elements"
        )
    }
}
