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
