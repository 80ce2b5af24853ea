import EntenteCore
import EntenteCrypto
import EntenteSync
import EntenteWire
import Foundation
import Testing

@testable import Entente

/// Bad input never changes the store: every case here must throw and leave the node showing the same thing.
@Suite struct TamperTests {
    /// A deal where Globex created an opportunity with Initech; returns the bundle Globex exported to Initech.
    func setUp() async throws -> (Deal, ObjectID, [UInt8]) {
        let deal = try await Deal.make()
        var changes = Changes()
        changes.joint = [FieldValue("title", "Tamper target")]
        changes.privateFields = [FieldValue("deal_size", "42")]
        let id = try await deal.globex.create(type: "opportunity", changes: changes, with: [deal.initech.company])
        let bundle = try await deal.globex.exportBundle(to: deal.initech.company).encoded()
        return (deal, id, bundle)
    }

    /// An envelope signed by `author`'s replica, addressed to `recipient` only, carrying `kind` for `object`.
    func forge(
        _ kind: EntenteCore.Operation.Kind,
        on object: ObjectID,
        by author: Node,
        to recipient: Node,
        sequence: UInt64 = 50
    ) throws -> [UInt8] {
        let operation = EntenteCore.Operation(
            object: object,
            timestamp: Timestamp(
                physical: UInt64(Date().timeIntervalSince1970 * 1000),
                counter: 0,
                replica: author.replica
            ),
            kind: kind
        )
        let addressee = Addressee(
            company: recipient.company,
            encryptionKey: recipient.card.encryptionKey,
            sequence: sequence
        )
        return try Envelope.seal([operation], from: author.credentials, to: [addressee]).bytes
    }

    /// Imports `bytes` as a bundle in memory, then as a bundle file: both must be refused with `code`, and
    /// leave the node showing what it showed before.
    func expectRefused(_ node: Node, _ bytes: [UInt8], _ code: EntenteError.Code, _ comment: Comment) async throws {
        let before = try await fingerprint(node)
        do {
            try await node.importBundle(bytes)
            Issue.record("import succeeded: \(comment)")
        } catch {
            #expect(error.code == code, "\(comment): \(error.message)")
            #expect(!error.message.isEmpty)
        }
        #expect(try await fingerprint(node) == before, "\(comment): the store changed")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tamper-\(UUID().uuidString).bundle")
        try Data(bytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        do {
            try await node.importBundle(file: file.path)
            Issue.record("import of the file succeeded: \(comment)")
        } catch {
            #expect(error.code == code, "\(comment), as a file: \(error.message)")
        }
        #expect(try await fingerprint(node) == before, "\(comment), as a file: the store changed")
    }

    @Test func aBundleStreamThatFailsAfterItsEnvelopesImportsNothing() async throws {
        let (deal, _, bundle) = try await setUp()
        defer { deal.cleanUp() }
        let envelopes = try Bundle(decoding: bundle).envelopes
        let before = try await fingerprint(deal.initech)
        // Every envelope is good and merged; then the stream fails (as a file changed during its import does).
        var handed = 0
        do {
            _ = try await deal.initech.importEnvelopes(count: envelopes.count, revocations: []) {
                () throws(WireError) in
                guard handed < envelopes.count else {
                    throw WireError(.malformed, "the bundle file changed while it was being imported")
                }
                handed += 1
                return envelopes[handed - 1]
            }
            Issue.record("an import whose stream failed succeeded")
        } catch {
            #expect(error.code == .badInput)
            #expect(
                error.message.contains("changed while it was being imported; nothing was imported"),
                "\(error.message)"
            )
        }
        #expect(handed == envelopes.count)
        #expect(try await fingerprint(deal.initech) == before)
        // The same envelopes, handed over cleanly, import.
        try await deal.initech.importBundle(bundle)
        #expect(try await fingerprint(deal.initech) != before)
    }

    @Test func everyFlippedByteOfABundleIsRefused() async throws {
        let (deal, _, bundle) = try await setUp()
        defer { deal.cleanUp() }
        let before = try await fingerprint(deal.initech)
        for index in bundle.indices {
            var flipped = bundle
            flipped[index] ^= 0x01
            await #expect(throws: EntenteError.self, "flip at byte \(index)") {
                try await deal.initech.importBundle(flipped)
            }
        }
        #expect(try await fingerprint(deal.initech) == before)
        #expect(try await deal.initech.importBundle(bundle).applied > 0, "the untouched bundle still imports")
    }

    @Test func everyFlippedByteOfAnEnvelopeIsRefusedEvenInAWellFormedBundle() async throws {
        let (deal, _, bundle) = try await setUp()
        defer { deal.cleanUp() }
        let envelopes = try Bundle(decoding: bundle).envelopes
        let target = try #require(envelopes.first)
        let before = try await fingerprint(deal.initech)
        for index in target.indices {
            var flipped = target
            flipped[index] ^= 0x01
            let rewrapped = Bundle(envelopes: [flipped] + envelopes.dropFirst()).encoded()
            await #expect(throws: EntenteError.self, "flip at envelope byte \(index)") {
                try await deal.initech.importBundle(rewrapped)
            }
        }
        #expect(try await fingerprint(deal.initech) == before)
    }

    @Test func truncatedBundlesAreRefused() async throws {
        let (deal, _, bundle) = try await setUp()
        defer { deal.cleanUp() }
        for length in stride(from: 0, to: bundle.count, by: 7) {
            try await expectRefused(deal.initech, Array(bundle[..<length]), .badInput, "truncated to \(length) bytes")
        }
    }

    @Test func bundlesFromUnknownCompaniesAreRefused() async throws {
        let (deal, _, _) = try await setUp()
        defer { deal.cleanUp() }
        let hooli = try Node.create(at: deal.root.appendingPathComponent("hooli"), companyName: "Hooli")
        try await deal.globex.addPartner(hooli.card)
        let id = try await deal.globex.create(type: "opportunity", changes: Changes(), with: [hooli.company])
        _ = id
        let bundle = try await deal.globex.exportBundle(to: hooli.company).encoded()
        try await expectRefused(hooli, bundle, .unknownCompany, "Hooli never pinned Globex")
    }

    @Test func envelopesAddressedToSomeoneElseAreRefused() async throws {
        let (deal, _, _) = try await setUp()
        defer { deal.cleanUp() }
        // Globex's private field travels in an envelope addressed to Globex alone; hand it to Initech.
        let own = try await deal.globex.exportBundle(to: deal.globex.company).envelopes
        let privateOnly = try own.filter { try Envelope(parsing: $0).audience == [deal.globex.company] }
        #expect(!privateOnly.isEmpty)
        try await expectRefused(
            deal.initech,
            Bundle(envelopes: privateOnly).encoded(),
            .badInput,
            "misaddressed envelope"
        )
    }

    @Test func aCompanyCannotWriteAnotherCompanysFields() async throws {
        let (deal, id, bundle) = try await setUp()
        defer { deal.cleanUp() }
        try await deal.initech.importBundle(bundle)
        // Initech's replica signs a write into Globex's namespace, addressed to Globex.
        let forged = try forge(
            .set(FieldKey(.company(deal.globex.company), "deal_size"), .string("0"), .participants, preds: []),
            on: id,
            by: deal.initech,
            to: deal.globex
        )
        try await expectRefused(
            deal.globex,
            Bundle(envelopes: [forged]).encoded(),
            .rejected,
            "foreign namespace write"
        )
    }

    @Test func aPartnerCannotInviteToAnObjectItDoesNotOwn() async throws {
        let (deal, id, bundle) = try await setUp()
        defer { deal.cleanUp() }
        try await deal.initech.importBundle(bundle)
        await #expect(throws: EntenteError.self) { try await deal.initech.invite(id, deal.umbra.company) }
        let forged = try forge(.addParticipant(deal.umbra.company), on: id, by: deal.initech, to: deal.globex)
        try await expectRefused(deal.globex, Bundle(envelopes: [forged]).encoded(), .rejected, "non-owner invite")
    }

    @Test func timestampsTooFarInTheFutureAreRefused() async throws {
        let (deal, id, bundle) = try await setUp()
        defer { deal.cleanUp() }
        try await deal.initech.importBundle(bundle)
        let hourAhead = Node.Options(now: { UInt64(Date().timeIntervalSince1970 * 1000) + 3_600_000 })
        let liar = try Node.open(at: deal.root.appendingPathComponent("initech"), options: hourAhead)
        var changes = Changes()
        changes.joint = [FieldValue("stage", "closed-won")]
        try await liar.update(id, changes: changes)
        let bytes = try await liar.exportBundle(to: deal.globex.company).encoded()
        try await expectRefused(deal.globex, bytes, .rejected, "timestamp an hour ahead")
    }

    @Test func equivocationIsDetected() async throws {
        let (deal, id, bundle) = try await setUp()
        defer { deal.cleanUp() }
        try await deal.initech.importBundle(bundle)
        func write(_ value: String) throws -> [UInt8] {
            try forge(
                .set(FieldKey(.joint, "next_steps"), .string(value), .participants, preds: []),
                on: id,
                by: deal.initech,
                to: deal.globex,
                sequence: 1
            )
        }
        try await deal.globex.importBundle(Bundle(envelopes: [try write("first")]).encoded())
        try await expectRefused(
            deal.globex,
            Bundle(envelopes: [try write("second")]).encoded(),
            .rejected,
            "two envelopes numbered 1"
        )
    }

    @Test func oneBadEnvelopeRefusesTheWholeBundle() async throws {
        let (deal, _, bundle) = try await setUp()
        defer { deal.cleanUp() }
        var envelopes = try Bundle(decoding: bundle).envelopes
        var last = try #require(envelopes.last)
        last[last.count - 1] ^= 0xff
        envelopes[envelopes.count - 1] = last
        try await expectRefused(deal.initech, Bundle(envelopes: envelopes).encoded(), .badInput, "bad last envelope")
        #expect(try await deal.initech.objects().isEmpty)
    }
}
