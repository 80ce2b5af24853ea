import EntenteCore
import EntenteTestSupport
import Foundation
import Testing

@testable import Entente

/// Secret key files protected by a passphrase (Argon2id + crypto_secretbox).
@Suite struct KeysAtRestTests {
    @Test func protectedKeysNeedTheRightPassphraseAndCanBeChangedOrRemoved() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("entente-keys-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = root.appendingPathComponent("globex")
        let created = try Node.create(
            at: directory,
            companyName: "Globex",
            options: Node.Options(passphrase: "correct horse battery")
        )
        let company = created.company
        #expect(Node.keysAreProtected(at: directory))
        for file in ["company.sign.key", "company.box.key", "replica.sign.key"] {
            let text = try String(contentsOf: directory.appendingPathComponent("keys/\(file)"), encoding: .utf8)
            #expect(text.hasPrefix("ENTENTE-SECRET-KEY/2 "), "\(file) is not sealed")
            let attributes = try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("keys/\(file)").path)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
        }
        func failure(_ passphrase: String?) -> String {
            do {
                _ = try Node.open(at: directory, options: Node.Options(passphrase: passphrase))
                return "opened"
            } catch { return error.message }
        }
        #expect(failure(nil).contains("ENTENTE_PASSPHRASE"))
        #expect(failure("correct horse batterx").contains("wrong passphrase"))
        #expect(failure("").contains("ENTENTE_PASSPHRASE"))
        let reopened = try Node.open(at: directory, options: Node.Options(passphrase: "correct horse battery"))
        #expect(reopened.company == company)

        #expect(throws: EntenteError.self) { try Node.changePassphrase(at: directory, old: "nope", new: "next one") }
        #expect(failure("correct horse battery") == "opened", "a failed change rewrote the keys")
        try Node.changePassphrase(at: directory, old: "correct horse battery", new: "next passphrase")
        #expect(failure("correct horse battery").contains("wrong passphrase"))
        #expect(try Node.open(at: directory, options: Node.Options(passphrase: "next passphrase")).company == company)
        try Node.changePassphrase(at: directory, old: "next passphrase", new: nil)
        #expect(!Node.keysAreProtected(at: directory))
        #expect(try Node.open(at: directory).company == company)
    }
}

/// `Node.rotateReplicaKey`: a new certified replica key that partners accept, crash-safe.
@Suite struct KeyRotationTests {
    @Test func partnersAcceptARotatedReplicaKeyAndOldEnvelopesStayValid() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        var changes = Changes()
        changes.joint = [FieldValue("title", "Before rotation")]
        let id = try await deal.globex.create(type: "opportunity", changes: changes, with: [deal.initech.company])
        try await send(deal.globex, deal.initech)
        let directory = deal.globex.directory
        let oldKeyFile = try Data(contentsOf: directory.appendingPathComponent("keys/replica.sign.key"))
        let ids = try Node.rotateReplicaKey(at: directory)
        #expect(ids.old == deal.globex.replica && ids.new != ids.old)
        let rotated = try Node.open(at: directory)
        #expect(rotated.replica == ids.new)
        #expect(try Data(contentsOf: directory.appendingPathComponent("keys/replica.sign.key")) != oldKeyFile)
        try await rotated.update(id, changes: Changes(fields: [FieldValue("title", "After rotation")]))
        try await send(rotated, deal.initech)
        let view = try await deal.initech.object(id)
        #expect(view.joint("title")?.value == .string("After rotation"))
        let history = try await deal.initech.history(id)
        #expect(Set(history.map(\.replica)).isSuperset(of: [ids.old, ids.new]))
        #expect(try await deal.initech.summary().held[ids.new] == 1, "the new replica numbers from 1")
        // A fresh partner receives both replicas' envelopes and accepts them.
        try await send(rotated, deal.umbra)
        try await rotated.invite(id, deal.umbra.company)
        try await send(rotated, deal.umbra)
        #expect(try await deal.umbra.object(id).joint("title")?.value == .string("After rotation"))
        for node in [rotated, deal.initech, deal.umbra] {
            let report = try await node.verify()
            #expect(report.isSound, "\(report.problems)")
        }
    }

    @Test func anInterruptedRotationIsFinishedOrRolledBackOnOpen() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let directory = deal.globex.directory
        let keys = directory.appendingPathComponent("keys")
        let current = keys.appendingPathComponent("replica.sign.key")
        let pending = keys.appendingPathComponent("replica.sign.key.new")
        let oldKey = try Data(contentsOf: current)
        // Crash after the database switched certificates, before the rename: open finishes the rotation.
        let ids = try Node.rotateReplicaKey(at: directory)
        try FileManager.default.moveItem(at: current, to: pending)
        try oldKey.write(to: current)
        let finished = try Node.open(at: directory)
        #expect(finished.replica == ids.new)
        #expect(!FileManager.default.fileExists(atPath: pending.path))
        // Crash before the database switched: the pending key is dropped and the current one kept.
        try oldKey.write(to: pending)
        let kept = try Node.open(at: directory)
        #expect(kept.replica == ids.new && !FileManager.default.fileExists(atPath: pending.path))
    }

    @Test func anEnrolledReplicaCannotRotateWithoutTheCompanyKey() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let laptop = deal.root.appendingPathComponent("laptop")
        _ = try Node.join(at: laptop, enrollment: try await deal.globex.enrollReplica())
        do {
            _ = try Node.rotateReplicaKey(at: laptop)
            Issue.record("an enrolled replica rotated its key without the company key")
        } catch { #expect(error.message.contains("no company signing key")) }
        #expect(try Node.open(at: laptop).company == deal.globex.company)
    }
}
