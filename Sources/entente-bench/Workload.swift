import Entente
import Foundation

#if os(Linux)
/// glibc's `malloc_trim`, which the Glibc module does not export.
@_silgen_name("malloc_trim") private func mallocTrim(_ pad: Int) -> Int32
#endif

/// The CRM-shaped records of the joint-pipeline workload: deterministic, so every run measures the same data.
struct Workload {
    /// The 20 fields of an opportunity as a CRM exports it, in order; `--fields F` keeps the first F.
    static let fieldNames = [
        "crm_id", "name", "account", "stage", "region", "owner", "partner", "partner_contact", "currency", "amount",
        "probability", "close_date", "created", "updated", "source", "product_line", "next_step", "forecast_category",
        "industry", "employees",
    ]
    static let stages = ["prospect", "qualified", "technical-validation", "business-validation", "committed"]
    static let regions = ["EMEA", "AMER", "APAC", "LATAM"]
    static let industries = ["Retail", "Banking", "Manufacturing", "Healthcare", "Public sector", "Telecom"]
    static let sources = ["Partner referral", "Marketplace", "Event", "Inbound", "Outbound"]
    static let products = ["Data platform", "Analytics", "Security", "Integration"]

    let fields: Int
    /// The field kept private by the owner (the last one kept), as a real company keeps its forecast category.
    var privateField: String { Self.fieldNames[fields - 1] }

    /// Whole US dollars as an exact money value.
    static func dollars(_ amount: Int64) -> Value {
        guard let value = DecimalNumber(significand: amount * 100, scale: 2), let usd = CurrencyCode("USD") else {
            return .null
        }
        return .money(Money(amount: value, currency: usd))
    }

    /// A probability in percent.
    static func percent(_ value: Int64) -> Value { .integer(value) }

    /// The opportunity fields each company keeps as its own (deal value, probability, forecast, CRM id): the
    /// workload shares them with every participant, as their own fields; every other field is joint.
    static let ownFields: Set<String> = ["crm_id", "amount", "probability", "forecast_category"]

    /// Adds a field write where the catalog puts it: own fields shared with every participant, the rest joint.
    static func place(_ entry: FieldValue, into changes: inout Changes) {
        if ownFields.contains(entry.name) { changes.shared.append(entry) } else { changes.joint.append(entry) }
    }

    /// A 2027 date.
    static func date(month: UInt8, day: UInt8) -> Value {
        CalendarDate(year: 2027, month: month, day: day).map(Value.date) ?? .null
    }

    /// A deterministic pseudo-random number for record `index`, salt `salt`.
    static func mix(_ index: Int, _ salt: UInt64) -> UInt64 {
        var z = UInt64(index) &* 0x9E37_79B9_7F4A_7C15 &+ salt
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    func value(_ field: String, _ index: Int) -> Value {
        let r = Self.mix(index, UInt64(field.hashValue & 0xFFFF))
        func pick(_ list: [String]) -> String { list[Int(r % UInt64(list.count))] }
        switch field {
        case "crm_id": return .string("0061k0000\(String(index, radix: 36, uppercase: true))")
        case "name": return .string("Opportunity \(index) - \(pick(Self.products))")
        case "account": return .string("Account \(r % 20_000)")
        case "stage": return .string(pick(Self.stages))
        case "region": return .string(pick(Self.regions))
        case "owner": return .string("rep\(r % 500)@globex.example")
        case "partner": return .string("Initech")
        case "partner_contact": return .string("pm\(r % 300)@initech.example")
        case "currency": return .string("USD")
        case "amount":
            return Self.dollars(Int64(r % 5_000_000))
        case "probability": return Self.percent(Int64(r % 100))
        case "close_date": return Self.date(month: UInt8(1 + r % 12), day: UInt8(1 + r % 28))
        case "created", "updated": return .timestamp(1_767_225_600_000 + Int64(r % 31_536_000_000))
        case "source": return .string(pick(Self.sources))
        case "product_line": return .string(pick(Self.products))
        case "next_step": return .string("Call on day \(r % 90)")
        case "forecast_category": return .string(pick(["pipeline", "best-case", "commit"]))
        case "industry": return .string(pick(Self.industries))
        default: return .integer(Int64(r % 100_000))
        }
    }

    /// Record `index`: every kept field joint, except the private one.
    func record(_ index: Int) -> Changes {
        var changes = Changes()
        for field in Self.fieldNames.prefix(fields) {
            let entry = FieldValue(field, value(field, index))
            if field == privateField { changes.privateFields.append(entry) } else { Self.place(entry, into: &changes) }
        }
        return changes
    }

    /// The W2 change of record `index`: stage, amount, and probability or next step.
    func delta(_ index: Int, round: UInt64) -> Changes {
        var changes = Changes()
        let r = Self.mix(index, 0xD17A + round)
        let writes = [
            FieldValue("stage", .string(Self.stages[Int(r % UInt64(Self.stages.count))])),
            FieldValue("amount", Self.dollars(Int64(r % 9_000_000))),
            r % 2 == 0
                ? FieldValue("probability", Self.percent(Int64(r % 100)))
                : FieldValue("next_step", .string("Follow-up \(r % 1000)")),
        ]
        for write in writes { Self.place(write, into: &changes) }
        return changes
    }

    /// The bytes of the changed values themselves (their encoded form).
    static func valueBytes(_ changes: Changes) -> Int {
        (changes.joint + changes.shared).reduce(0) { total, field in
            switch field.value {
            case .string(let text): total + text.utf8.count
            case .money(let money): total + money.amount.description.utf8.count + 3
            case .decimal(let number): total + number.description.utf8.count
            default: total + 8
            }
        }
    }
}

/// Wall-clock and memory measurements.
enum Meter {
    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    static func seconds(_ body: () async throws -> Void) async rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try await body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// CPU time this process has used so far (user and system, every thread), in seconds: unlike wall-clock time,
    /// it does not count waiting for the disk, so it shows changes to the code's own cost on a noisy machine.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Peak resident set size of this process (VmHWM), in bytes.
    static func peakRSS() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
            return kilobytes * 1024
        }
        return 0
    }

    /// Current resident set size of this process (VmRSS), in bytes.
    static func currentRSS() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return (line.split(separator: " ").compactMap { Int($0) }.first ?? 0) * 1024
        }
        return 0
    }

    /// Hands memory the earlier steps freed back to the system, then resets the peak RSS to the current RSS
    /// (Linux: write 5 to clear_refs), so a step's peak can be measured. Returns the RSS it starts from.
    @discardableResult
    static func resetPeak() -> Int {
        #if os(Linux)
        _ = mallocTrim(0)
        #endif
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
        return currentRSS()
    }
}
