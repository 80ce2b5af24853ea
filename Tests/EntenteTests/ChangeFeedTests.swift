import Foundation
import Testing

@testable import Entente

@Suite struct ChangeFeedTests {
    @Test func localAndImportedChangesAreDeliveredAfterCommit() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let feed = await deal.initech.changes()
        var changes = Changes()
        changes.joint = [FieldValue("title", "Feed")]
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
            if received.count == 4 { break }
        }
        #expect(
            received[0].kind == .created(type: "opportunity") && !received[0].isLocal
                && received[0].company == deal.globex.company
        )
        #expect(received.contains { $0.kind == .participantAdded(deal.initech.company) })
        #expect(received[2].kind == .field(name: "title", namespace: nil, old: nil, new: .string("Feed")))
        #expect(
            received[3].kind == .field(name: "title", namespace: nil, old: .string("Feed"), new: .string("Feed v2"))
        )
        #expect(received[3].isLocal && received[3].company == deal.initech.company)
    }
}
