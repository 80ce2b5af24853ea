import EntenteCore
import EntenteSync
import EntenteTestSupport
import EntenteWire
import Foundation
import Testing

@testable import Entente

/// Issue 3 capabilities through real nodes: conflicts, sets, membership removal, visibility changes, archive,
/// history, several replicas per company, typed values.
@Suite struct LifecycleTests {
    func opportunity(_ deal: Deal, joint: [FieldValue] = [FieldValue("title", "Lifecycle")]) async throws -> ObjectID {
        var changes = Changes()
        changes.joint = joint
        let id = try await deal.globex.create(
            type: "opportunity",
            changes: changes,
            with: [deal.initech.company, deal.umbra.company]
        )
        try await send(deal.globex, deal.initech)
        try await send(deal.globex, deal.umbra)
        return id
    }

    func syncAll(_ deal: Deal) async throws {
        for _ in 0..<2 {
            for from in deal.all { for to in deal.all where to !== from { try await send(from, to) } }
        }
    }

    func joint(_ name: String, _ value: Value) -> Changes {
        var changes = Changes()
        changes.joint = [FieldValue(name, value)]
        return changes
    }

    @Test func concurrentWritesAreKeptAsConflictsUntilSomeoneWritesAgain() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let id = try await opportunity(deal)
        try await deal.initech.update(id, changes: joint("stage", .string("qualified")))
        try await deal.umbra.update(id, changes: joint("stage", .string("committed")))
        try await syncAll(deal)
        let views = try await deal.all.asyncMap { try await $0.object(id) }
        let stages = views.map { $0.joint("stage") }
        #expect(Set(stages.map { $0?.value }).count == 1, "every company shows the same winner")
        #expect(stages.allSatisfy { $0?.conflicts.count == 1 }, "every company keeps the concurrent loser")
        let loser = try #require(stages[0]?.conflicts.first)
        #expect(Set([loser.value, stages[0]?.value]) == [.string("qualified"), .string("committed")])
        #expect(try await deal.globex.conflicts().map(\.id) == [id])
        // Globex has seen both: its write supersedes both and clears the conflict everywhere.
        try await deal.globex.update(id, changes: joint("stage", .string("technical-validation")))
        try await syncAll(deal)
        for node in deal.all {
            let stage = try await node.object(id).joint("stage")
            #expect(stage?.value == .string("technical-validation") && stage?.conflicts.isEmpty == true)
            #expect(try await node.conflicts().isEmpty)
        }
    }

    @Test func setsKeepConcurrentAddsAndRemoveOnlyWhatWasSeen() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let id = try await opportunity(deal)
        try await deal.initech.updateSet(id, field: "team", joint: true, add: ["alice", "bob"])
        try await deal.umbra.updateSet(id, field: "team", joint: true, add: ["carol", "bob"])
        try await syncAll(deal)
        // Initech removes bob having seen both adds; Umbra concurrently re-adds bob: add wins.
        try await deal.initech.updateSet(id, field: "team", joint: true, remove: ["bob", "alice"])
        try await deal.umbra.updateSet(id, field: "team", joint: true, add: ["bob"])
        try await syncAll(deal)
        for node in deal.all {
            let team = try await node.object(id).joint("team")
            #expect(
                team?.elements == ["bob", "carol"],
                "\(node.card.name) shows \(String(describing: team?.elements))"
            )
        }
    }

    @Test func aRemovedCompanyGetsNothingNewAndItsLaterWritesAreIgnoredEverywhere() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let (globex, initech, umbra) = (deal.globex, deal.initech, deal.umbra)
        let id = try await opportunity(deal)
        try await umbra.update(id, changes: joint("next_steps", .string("before removal")))
        try await syncAll(deal)
        try await globex.uninvite(id, umbra.company)
        // Umbra has not heard of its removal yet and writes; Initech receives that write first.
        try await umbra.update(id, changes: joint("next_steps", .string("SENTINEL-AFTER-REMOVAL")))
        try await send(umbra, initech)
        #expect(
            try await initech.object(id).joint("next_steps")?.value
                == .string("SENTINEL-AFTER-REMOVAL")
        )
        // The removal reaches Initech: it rebuilds the object and the write is gone.
        try await send(globex, initech)
        try await send(umbra, globex)
        for node in [globex, initech] {
            let view = try await node.object(id)
            #expect(
                view.joint("next_steps")?.value == .string("before removal"),
                "\(node.card.name)"
            )
            #expect(!view.participants.map(\.name).contains("Umbra Cloud"))
            #expect(
                try await node.status().waiting.count == 1,
                "the late write waits (a new invitation would apply it)"
            )
        }
        // Nothing new reaches Umbra: Globex's later write is not in what Globex exports to it.
        try await globex.update(id, changes: joint("use_case", .string("SENTINEL-NOT-FOR-UMBRA")))
        let toUmbra = try await globex.envelopes(for: umbra.company, since: try await umbra.summary())
        let opened = try toUmbra.flatMap {
            try Envelope(parsing: $0).open(as: umbra.company, with: umbra.encryptionKey)
        }
        #expect(
            opened.allSatisfy {
                if case .set(_, .string("SENTINEL-NOT-FOR-UMBRA"), _, _) = $0.kind { false } else { true }
            }
        )
        #expect(opened.contains { $0.kind == .removeParticipant(umbra.company) }, "Umbra learns it was removed")
        try await umbra.importEnvelopes(toUmbra)
        await #expect(throws: EntenteError.self) { try await umbra.update(id, changes: joint("stage", .string("x"))) }
    }

    @Test func wideningSendsTheCurrentValueAndNarrowingStopsFutureOnes() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let (globex, initech, umbra) = (deal.globex, deal.initech, deal.umbra)
        let id = try await opportunity(deal)
        var secret = Changes()
        secret.privateFields = [FieldValue("rate", "SENTINEL-RATE-1")]
        try await initech.update(id, changes: secret)
        try await syncAll(deal)
        #expect(try await globex.object(id).fields.first { $0.company.name == "Initech" } == nil)
        try await initech.share(id, field: "rate", with: .partners([globex.company]))
        try await syncAll(deal)
        let seen = try await globex.object(id).fields.first { $0.company.name == "Initech" }?.fields.first {
            $0.name == "rate"
        }
        #expect(seen?.value == .string("SENTINEL-RATE-1"))
        #expect(!contains(databaseBytes(umbra), "SENTINEL-RATE-1"), "widening to Globex does not reach Umbra")
        // Narrow back to private, then change the value: Globex keeps the old value, never sees the new one.
        try await initech.share(id, field: "rate", with: .private)
        var update = Changes()
        update.privateFields = [FieldValue("rate", "SENTINEL-RATE-2")]
        try await initech.update(id, changes: update)
        try await syncAll(deal)
        let after = try await globex.object(id).fields.first { $0.company.name == "Initech" }?.fields.first {
            $0.name == "rate"
        }
        #expect(after?.value == .string("SENTINEL-RATE-1"))
        for node in [globex, umbra] { #expect(!contains(databaseBytes(node), "SENTINEL-RATE-2")) }
    }

    @Test func archivedObjectsLeaveListsButKeepSyncingAndHistory() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let id = try await opportunity(deal)
        try await deal.globex.archive(id)
        await #expect(throws: EntenteError.self) { try await deal.initech.archive(id) }
        try await syncAll(deal)
        for node in deal.all {
            #expect(try await node.objects().isEmpty)
            #expect(try await node.objects(includeArchived: true).map(\.id) == [id])
            #expect(try await node.object(id).archived)
        }
        try await deal.globex.archive(id, false)
        try await syncAll(deal)
        #expect(try await deal.umbra.objects().map(\.id) == [id])
        let history = try await deal.umbra.history(id)
        #expect(history.map(\.change).filter { $0.hasPrefix("archive") || $0.hasPrefix("restore") }.count == 2)
        #expect(
            history.allSatisfy {
                $0.company.name == "Globex" || $0.company.name == "Initech" || $0.company.name == "Umbra Cloud"
            }
        )
    }

    @Test func historyAttributesEveryChangeToASignedReplica() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let id = try await opportunity(deal)
        try await deal.initech.update(id, changes: joint("budget", .money(Money("1250000.00 USD")!)))
        try await syncAll(deal)
        let history = try await deal.umbra.history(id)
        let stage = try #require(history.first { $0.field == "budget" })
        #expect(stage.company.name == "Initech" && stage.replica == deal.initech.replica && stage.applied)
        #expect(stage.value == .money(Money("1250000 USD")!))
        #expect(history.first?.change.hasPrefix("create opportunity") == true)
        #expect(history.map(\.timestamp) == history.map(\.timestamp).sorted())
    }

    @Test func typedValuesSurviveBundles() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let values: [FieldValue] = [
            FieldValue("budget", .money(Money("1240000.50 EUR")!)),
            FieldValue("margin", .decimal(DecimalNumber("0.35")!)),
            FieldValue("close_date", .date(CalendarDate("2027-02-28")!)), FieldValue("seats", .integer(-42)),
            FieldValue("signed", .boolean(true)), FieldValue("kickoff", .timestamp(1_800_000_000_123)),
            FieldValue("tier", .enumeration("gold")), FieldValue("empty", .string("")),
        ]
        let id = try await opportunity(deal, joint: values)
        let seen = try await deal.umbra.object(id).joint
        for value in values { #expect(seen.first { $0.name == value.name }?.value == value.value, "\(value.name)") }
    }

    @Test func aLaptopReplicaWorksOfflineAndReconciles() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let (globex, initech) = (deal.globex, deal.initech)
        let id = try await opportunity(deal)
        let laptop = try Node.join(
            at: deal.root.appendingPathComponent("laptop"),
            enrollment: try await globex.enrollReplica()
        )
        #expect(laptop.company == globex.company && laptop.replica != globex.replica)
        await #expect(throws: EntenteError.self) { try await laptop.enrollReplica() }
        try await send(globex, laptop)
        // Offline, concurrently: both replicas change the private deal size; the laptop changes a joint field.
        var serverSide = Changes()
        serverSide.privateFields = [FieldValue("deal_size", "SENTINEL-SERVER-SIZE")]
        try await globex.update(id, changes: serverSide)
        var laptopSide = Changes()
        laptopSide.privateFields = [FieldValue("deal_size", "SENTINEL-LAPTOP-SIZE")]
        laptopSide.joint = [FieldValue("next_steps", "call from the plane")]
        try await laptop.update(id, changes: laptopSide)
        try await send(laptop, globex)
        try await send(globex, laptop)
        let onServer = try await globex.object(id)
        let onLaptop = try await laptop.object(id)
        #expect(onServer == onLaptop, "the two replicas of Globex reconcile")
        #expect(onServer.fields.first { $0.company.name == "Globex" }?.fields.first?.conflicts.count == 1)
        // The laptop's joint edit reaches Initech through the server; its private values never do.
        try await send(globex, initech)
        #expect(
            try await initech.object(id).joint("next_steps")?.value
                == .string("call from the plane")
        )
        for secret in ["SENTINEL-SERVER-SIZE", "SENTINEL-LAPTOP-SIZE"] {
            #expect(!contains(databaseBytes(initech), secret))
            #expect(contains(databaseBytes(laptop), secret))
        }
    }
}
