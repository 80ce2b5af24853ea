import Foundation
import Testing

@testable import Entente

@Suite struct ChangeFeedTests {
    @Test func localAndImportedChangesAreDeliveredAfterCommit() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let feed = await deal.initech.changes()
        var changes = Changes()
        changes.joint = [FieldValue("title", "Feed"), FieldValue("stage", "prospect")]
        let id = try await deal.globex.create(type: "opportunity", changes: changes, with: [deal.initech.company])
        try await send(deal.globex, deal.initech)
        // A refused import publishes nothing.
        await #expect(throws: EntenteError.self) { try await deal.initech.importBundle([1, 2, 3]) }
        var update = Changes()
        update.joint = [FieldValue("title", "Feed v2")]
        try await deal.initech.update(id, changes: update)

        var received: [Change] = []
        for await change in feed {
            received.append(change)
            if received.count == 5 { break }
        }
        #expect(
            received[0].kind == .created(type: "opportunity") && !received[0].isLocal
                && received[0].company == deal.globex.company
        )
        #expect(received.contains { $0.kind == .participantAdded(deal.initech.company) })
        #expect(received[2].kind == .field(name: "title", namespace: nil, old: nil, new: .string("Feed")))
        #expect(received[3].kind == .field(name: "stage", namespace: nil, old: nil, new: .string("prospect")))
        #expect(
            received[4].kind == .field(name: "title", namespace: nil, old: .string("Feed"), new: .string("Feed v2"))
        )
        #expect(received[4].isLocal && received[4].company == deal.initech.company)
    }
}

@Suite struct ObjectQueryTests {
    @Test func listsCarryTitlesAndIdPrefixesResolveByRange() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        var ids: [ObjectID] = []
        for title in ["Alpha", "Beta", ""] {
            var changes = Changes()
            if !title.isEmpty { changes.joint = [FieldValue("title", title)] }
            ids.append(try await deal.globex.create(type: "opportunity", changes: changes))
        }
        let listed = try await deal.globex.objects()
        #expect(listed.map(\.id) == ids)
        #expect(listed.map(\.title) == ["Alpha", "Beta", nil])
        for id in ids {
            #expect(try await deal.globex.resolveObject(String(id.hex.prefix(7))) == id)
            #expect(try await deal.globex.resolveObject(id.hex.uppercased()) == id)
        }
        let absent = ids.map(\.hex).contains { $0.hasPrefix("000000") } ? "ffffff" : "000000"
        await #expect(throws: EntenteError.self) { try await deal.globex.resolveObject(absent) }
        #expect(try await deal.globex.status().objects == 3)
    }
}

@Suite struct SequentialWriteTests {
    @Test func writesInOneCallSeeEachOtherAndLeaveNoConflict() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        var twice = Changes()
        twice.joint = [FieldValue("next_steps", "first"), FieldValue("next_steps", "second")]
        let id = try await deal.globex.create(type: "opportunity", changes: twice)
        var a = Changes()
        a.joint = [FieldValue("use_case", "one")]
        var b = Changes()
        b.joint = [FieldValue("use_case", "two")]
        try await deal.globex.updateMany([(id, a), (id, b)])
        let joint = try await deal.globex.object(id).joint
        #expect(joint.first { $0.name == "next_steps" }?.value == .string("second"))
        #expect(joint.first { $0.name == "use_case" }?.value == .string("two"))
        #expect(joint.allSatisfy { $0.conflicts.isEmpty }, "a node's consecutive writes are not concurrent")
        #expect(try await deal.globex.conflicts().isEmpty)
    }
}
