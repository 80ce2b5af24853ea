import EntenteTestSupport
import Foundation
import Testing

/// `entente verify` end to end: a sound node, then one byte of a stored envelope flipped in the database file.
@Suite struct VerifyCLITests {
    @Test func verifyPassesOnASoundNodeAndNamesAFlippedEnvelope() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        try await cli.ok("init", "--company", "Globex", "--dir", "g")
        try await cli.ok("new", "opportunity", "--dir", "g", "title=Acme data platform", "amount=1240000 USD")
        let sound = try await cli.ok("verify", "--dir", "g")
        #expect(sound.hasPrefix("Checked 1 envelopes") && sound.hasSuffix("sound"), "\(sound)")
        let json = try await cli.ok("verify", "--json", "--dir", "g")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(report["sound"] as? Bool == true && report["objects"] as? Int == 1)
        #expect((report["problems"] as? [Any])?.isEmpty == true)

        // The envelope is stored as is: find its magic bytes in the database file (or its write-ahead log) and
        // flip a byte of its ciphertext. SQLite's own checks still pass; the envelope's hash and signature do not.
        var flipped = false
        for name in ["g/entente.sqlite-wal", "g/entente.sqlite"] where !flipped {
            var bytes = cli.bytes(name)
            let magic = Array("ENTE".utf8)
            guard let start = (0..<max(bytes.count - 400, 0)).first(where: { Array(bytes[$0..<$0 + 4]) == magic })
            else { continue }
            bytes[start + 350] ^= 0x01
            try cli.write(bytes, name)
            flipped = true
        }
        #expect(flipped, "no envelope found in the database files")
        let corrupt = try await cli.run(["verify", "--dir", "g"])
        #expect(corrupt.status == 1)
        #expect(corrupt.stdout.contains("problem"), "\(corrupt.stdout)")
        let errors = corrupt.stderr.split(separator: "\n")
        #expect(!errors.isEmpty && errors.allSatisfy { $0.hasPrefix("error: ") }, "\(corrupt.stderr)")
        #expect(corrupt.stderr.contains("error: envelope "), "\(corrupt.stderr)")
        #expect(corrupt.stderr.contains("signature") || corrupt.stderr.contains("hash"), "\(corrupt.stderr)")
        let corruptJSON = try await cli.run(["verify", "--json", "--dir", "g"])
        #expect(corruptJSON.status == 1 && corruptJSON.stdout.contains("\"sound\": false"), "\(corruptJSON.stdout)")
    }
}
