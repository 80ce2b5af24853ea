import EntenteCore
import EntenteSync
import EntenteTestSupport
import EntenteWire
import Foundation
import Testing

@Suite("Summary")
struct SummaryTests {
    private func parse(_ text: String) -> WireError? {
        wireError { () throws(WireError) in try Summary(json: Array(text.utf8)) }
    }

    /// Re-serializes `json` with one top-level key replaced.
    private func editing(_ json: String, _ key: String, _ value: Any) throws -> String {
        var object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        object[key] = value
        return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    private func sample(seed: UInt64, replicas: Int) -> Summary {
        var rng = SplitMix64(seed: seed)
        let company = CompanyID(raw: rng.id128())
        var held: [ReplicaID: UInt64] = [:]
        let special: [UInt64] = [0, 1, UInt64(Int64.max), UInt64.max]
        for index in 0..<replicas {
            held[ReplicaID(raw: rng.id128())] = index < special.count ? special[index] : UInt64(rng.int(1...1_000_000))
        }
        return Summary(company: company, held: held)
    }

    @Test("JSON round-trip", arguments: [0, 1, 4, 30])
    func roundTrip(replicas: Int) throws {
        let summary = sample(seed: UInt64(replicas), replicas: replicas)
        let json = summary.json()
        let parsed = try Summary(json: Array(json.utf8))
        #expect(parsed == summary)
        #expect(parsed.held.count == replicas)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["format"] as? String == Summary.format)
        #expect(object["company"] as? String == summary.company.hex)
        #expect((object["held"] as? [String: Any])?.count == replicas)
    }

    @Test("upper-case hex ids are accepted")
    func upperCase() throws {
        let summary = sample(seed: 5, replicas: 2)
        let json = summary.json()
        var upper = json.replacingOccurrences(of: summary.company.hex, with: summary.company.hex.uppercased())
        for replica in summary.held.keys {
            upper = upper.replacingOccurrences(of: replica.hex, with: replica.hex.uppercased())
        }
        #expect(upper != json)
        #expect(try Summary(json: Array(upper.utf8)) == summary)
    }

    @Test(
        "malformed JSON is refused",
        arguments: [
            "", "{", "[]", "null", "not json", "{\"format\": \"entente-summary/1\"}",
            "{\"format\": \"entente-summary/1\", \"company\": \"00000000000000000000000000000000\", \"held\": []}",
            "{\"format\": \"entente-summary/1\", \"company\": \"00000000000000000000000000000000\", \"held\": {\"x\": -1}}",
        ]
    )
    func malformed(text: String) {
        #expect(parse(text)?.code == .malformed)
    }

    @Test("a wrong format tag is an unsupported version", arguments: ["entente-summary/2", "entente-card/1", ""])
    func wrongFormat(tag: String) throws {
        let json = sample(seed: 6, replicas: 1).json()
        let error = parse(try editing(json, "format", tag))
        #expect(error?.code == .unsupportedVersion)
        #expect(error?.message.contains("not supported") == true)
        // The same edit with the right tag parses, so the failure is the tag's.
        #expect(parse(try editing(json, "format", Summary.format)) == nil)
    }

    @Test(
        "bad hex company ids are refused",
        arguments: [
            "", "00", String(repeating: "0", count: 31), String(repeating: "0", count: 34),
            String(repeating: "g", count: 32), " " + String(repeating: "0", count: 31),
        ]
    )
    func badCompany(hex: String) throws {
        let json = sample(seed: 7, replicas: 1).json()
        let error = parse(try editing(json, "company", hex))
        #expect(error?.code == .malformed)
        #expect(error?.message.contains("company") == true)
    }

    @Test(
        "bad hex replica ids are refused",
        arguments: ["", "zz", String(repeating: "a", count: 30), String(repeating: "x", count: 32)]
    )
    func badReplica(hex: String) throws {
        let json = sample(seed: 8, replicas: 1).json()
        let error = parse(try editing(json, "held", [hex: 3]))
        #expect(error?.code == .malformed)
        #expect(error?.message.contains("replica") == true)
    }

    @Test("an oversized summary file is refused before decoding")
    func tooLarge() {
        let error = wireError { () throws(WireError) in
            try Summary(json: [UInt8](repeating: 0x20, count: (16 << 20) + 1))
        }
        #expect(error?.code == .tooLarge)
    }
}
