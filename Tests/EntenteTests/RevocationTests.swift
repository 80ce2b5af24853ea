import EntenteCore
import EntenteCrypto
import EntenteSync
import EntenteWire
import Foundation
import Testing

@testable import Entente

/// `Node.revokeReplica`: partners refuse a lost laptop's envelopes and handshakes once they learn of it.
@Suite struct RevocationTests {
    @Test func partnersRefuseARevokedReplicaFromTheMomentTheyLearnOfIt() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        var opening = Changes()
        opening.joint = [FieldValue("title", "Joint deal")]
        let id = try await deal.globex.create(type: "opportunity", changes: opening, with: [deal.initech.company])
        try await send(deal.globex, deal.initech)
        // A laptop replica of Globex, synced with its company node.
        let laptop = try Node.join(
            at: deal.root.appendingPathComponent("laptop"),
            enrollment: try await deal.globex.enrollReplica()
        )
        try await laptop.importBundle(try await deal.globex.exportBundle(to: deal.globex.company).encoded())
        try await laptop.update(id, changes: Changes(fields: [FieldValue("next_steps", "written on the laptop")]))
        let before = try await laptop.exportBundle(to: deal.initech.company, since: try await deal.initech.summary())
        // The laptop is lost: Globex revokes it.
        let revocation = try await deal.globex.revokeReplica(laptop.replica)
        #expect(revocation.isValid(companyKey: deal.globex.card.signingKey))
        #expect(try await deal.globex.revocations() == [revocation])
        await #expect(throws: EntenteError.self) { try await deal.globex.revokeReplica(deal.globex.replica) }
        await #expect(throws: EntenteError.self) { try await laptop.revokeReplica(deal.globex.replica) }

        // Initech learns of it from Globex's next bundle (the revocation rides in its extension area)...
        let bundle = try await deal.globex.exportBundle(to: deal.initech.company, since: try await deal.initech.summary())
        #expect(bundle.revocations == [revocation])
        let decoded = try Bundle(decoding: bundle.encoded())
        #expect(decoded.revocations == [revocation])
        let learnt = try await deal.initech.importBundle(bundle.encoded())
        #expect(learnt.revocations == 1)
        // ...and from then on refuses what the laptop signed, even what it wrote before the revocation.
        let refused = try await deal.initech.importBundle(before.encoded())
        #expect(refused.revoked >= 1 && refused.applied == 0, "\(refused)")
        #expect(refused.notes.contains { $0.contains("revoked") })
        #expect(try await deal.initech.object(id).joint("next_steps") == nil)
        // A forged revocation (signed by another company's key) is ignored.
        let forged = ReplicaRevocation(
            company: deal.globex.company,
            replica: deal.globex.replica,
            revokedAt: 1,
            signature: [UInt8](repeating: 7, count: 64)
        )
        let ignored = try await deal.initech.importEnvelopes([], revocations: [forged])
        #expect(ignored.revocations == 0)
        #expect(try await deal.initech.revocations() == [revocation])
        // Globex's own writes still arrive.
        try await deal.globex.update(id, changes: Changes(fields: [FieldValue("next_steps", "from the office")]))
        try await send(deal.globex, deal.initech)
        #expect(try await deal.initech.object(id).joint("next_steps")?.value == .string("from the office"))
        for node in [deal.globex, deal.initech] {
            let report = try await node.verify()
            #expect(report.isSound, "\(report.problems)")
        }

        // Over the network, the revoked laptop is refused at the handshake.
        do {
            _ = try await networkSync(laptop, deal.initech)
            Issue.record("the revoked laptop synced over the network")
        } catch { #expect("\(error)".contains("revoked"), "\(error)") }
        // Its own company refuses it too.
        do {
            _ = try await networkSync(laptop, deal.globex)
            Issue.record("the revoked laptop synced with its company node")
        } catch { #expect("\(error)".contains("revoked"), "\(error)") }
    }

    @Test func bundlesCarryRevocationsInTheirExtensionAreaAndOlderLayoutsStillRead() throws {
        let key = SigningKeyPair.generate()
        let replica = ReplicaID(raw: ID128(high: 9, low: 9))
        let revocation = ReplicaRevocation.issue(companyKey: key, replica: replica, at: 1_800_000_000_000)
        #expect(try ReplicaRevocation(decoding: revocation.encoded()) == revocation)
        #expect(revocation.encoded().count == ReplicaRevocation.byteCount)
        let plain = Bundle(envelopes: [[1, 2, 3]])
        #expect(try Bundle(decoding: plain.encoded()).revocations.isEmpty)
        let carrying = Bundle(envelopes: [[1, 2, 3]], revocations: [revocation, revocation])
        let decoded = try Bundle(decoding: carrying.encoded())
        #expect(decoded.revocations == [revocation, revocation] && decoded.envelopes == [[1, 2, 3]])
        #expect(Bundle(envelopes: [], revocations: Array(repeating: revocation, count: 700)).revocations.count == 600)
        var tampered = revocation.encoded()
        tampered[40] ^= 1
        #expect(try !ReplicaRevocation(decoding: tampered).isValid(companyKey: key.publicKey))
    }

    @Test func aCompanyCannotRevokeAnotherCompanysReplica() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        // Initech signs a valid statement of its own naming Globex's replica, and spreads it.
        let bogus = try await deal.initech.revokeReplica(deal.globex.replica)
        #expect(bogus.company == deal.initech.company)
        _ = try await deal.umbra.importEnvelopes([], revocations: [bogus])
        #expect(try await deal.umbra.revocations() == [bogus], "the statement verifies: it is Initech's")
        // Globex's replica is still accepted by Umbra: a statement only counts for the revoker's own replicas.
        var changes = Changes()
        changes.joint = [FieldValue("title", "Still Globex's")]
        let id = try await deal.globex.create(type: "opportunity", changes: changes, with: [deal.umbra.company])
        let report = try await deal.umbra.importBundle(
            try await deal.globex.exportBundle(to: deal.umbra.company).encoded()
        )
        #expect(report.revoked == 0 && report.applied >= 1)
        #expect(try await deal.umbra.object(id).joint("title")?.value == .string("Still Globex's"))
        _ = try await networkSync(deal.globex, deal.umbra)
    }

    @Test func revocationsTravelOverTheNetworkAndThroughRelays() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        var opening = Changes()
        opening.joint = [FieldValue("title", "Joint deal")]
        let id = try await deal.globex.create(
            type: "opportunity",
            changes: opening,
            with: [deal.initech.company, deal.umbra.company]
        )
        let laptop = try Node.join(
            at: deal.root.appendingPathComponent("laptop"),
            enrollment: try await deal.globex.enrollReplica()
        )
        _ = try await networkSync(laptop, deal.globex)
        try await laptop.update(id, changes: Changes(fields: [FieldValue("next_steps", "written on the laptop")]))
        // The laptop's write reaches its company node, then the laptop is lost and revoked.
        _ = try await networkSync(laptop, deal.globex)
        let revocation = try await deal.globex.revokeReplica(laptop.replica)

        // Initech learns of it in the same session that would have brought the laptop's write: the statement
        // follows the summary, so the write is refused.
        let direct = try await networkSync(deal.globex, deal.initech)
        #expect(direct.client.revocationsSent == 1 && direct.server.revocationsLearnt == 1)
        #expect(direct.server.refused >= 1 && direct.client.peerRefused >= 1, "\(direct.server)")
        #expect(direct.server.refusedReasons.contains { $0.contains("revoked") }, "\(direct.server.refusedReasons)")
        #expect(try await deal.initech.revocations() == [revocation])
        #expect(try await deal.initech.object(id).joint("title")?.value == .string("Joint deal"))
        #expect(try await deal.initech.object(id).joint("next_steps") == nil)
        let again = try await networkSync(deal.globex, deal.initech)
        #expect(again.server.revocationsLearnt == 0 && again.client.revocationsLearnt == 0)

        // Umbra never talks to Globex: it learns of the revocation from Initech, which passes it on.
        let relayed = try await networkSync(deal.umbra, deal.initech)
        #expect(relayed.client.revocationsLearnt == 1, "\(relayed.client)")
        #expect(try await deal.umbra.revocations() == [revocation])
        do {
            _ = try await networkSync(laptop, deal.umbra)
            Issue.record("the revoked laptop synced with a partner that learnt of it through a relay")
        } catch { #expect("\(error)".contains("revoked"), "\(error)") }
        for node in [deal.globex, deal.initech, deal.umbra] {
            let report = try await node.verify()
            #expect(report.isSound, "\(report.problems)")
        }
    }
}
