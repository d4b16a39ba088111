//! The simulated people of the demo campaign: enumerators' districts and the
//! local-government staff interviewed in each round.

/// A small deterministic generator (xorshift64*), so a seed gives the same
/// campaign on every machine.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (0 when n is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next_u64() % n as u64) as usize }
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }

    /// A rough normal deviate (sum of uniforms).
    pub fn noise(&mut self) -> f64 {
        (0..4).map(|_| self.unit()).sum::<f64>() - 2.0
    }
}

/// Where a tablet works.
#[derive(Debug, Clone)]
pub struct District {
    pub name: &'static str,
    /// `mz` or `bd`, as the instruments' country list names them.
    pub country: &'static str,
    /// Latitude and longitude of the district's main town.
    pub lat: f64,
    pub lon: f64,
}

pub const DISTRICTS: [District; 6] = [
    District { name: "Beira", country: "mz", lat: -19.8436, lon: 34.8389 },
    District { name: "Khulna", country: "bd", lat: 22.8456, lon: 89.5403 },
    District { name: "Quelimane", country: "mz", lat: -17.8786, lon: 36.8883 },
    District { name: "Faridpur", country: "bd", lat: 23.6071, lon: 89.8429 },
    District { name: "Nampula", country: "mz", lat: -15.1165, lon: 39.2666 },
    District { name: "Jhenaidah", country: "bd", lat: 23.5450, lon: 89.1726 },
];

/// How a participant took part in the P2P learning event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum P2pRole {
    Host,
    Visitor,
    None,
}

impl P2pRole {
    pub fn label(self) -> &'static str {
        match self {
            P2pRole::Host => "host",
            P2pRole::Visitor => "visitor",
            P2pRole::None => "comparison",
        }
    }
}

/// One person interviewed in every round.
#[derive(Debug, Clone)]
pub struct Participant {
    /// Stable pseudonymous id, `MZ-0001`.
    pub id: String,
    /// Personal data: kept on the roster, marked so.
    pub name: String,
    pub phone: String,
    pub district: usize,
    pub device: usize,
    pub p2p: P2pRole,
    /// Self-assessed capacity at baseline, on the 1–5 scale.
    pub ability: f64,
}

impl Participant {
    /// Expected capacity score in `round` (1 = baseline): P2P participants
    /// gain more between rounds than the comparison group.
    pub fn expected_score(&self, round: u32) -> f64 {
        let gain = match self.p2p {
            P2pRole::Host | P2pRole::Visitor => 0.55,
            P2pRole::None => 0.12,
        };
        self.ability + gain * f64::from(round.saturating_sub(1))
    }
}

const GIVEN: [&str; 12] = [
    "Ana", "Carlos", "Fátima", "João", "Luísa", "Tomás", "Rahima", "Karim", "Nasrin", "Sohel",
    "Farhana", "Imran",
];
const FAMILY: [&str; 10] = [
    "Macuácua", "Sitoe", "Nhantumbo", "Chissano", "Mondlane", "Rahman", "Hossain", "Akter",
    "Chowdhury", "Islam",
];

/// The roster: `n` participants spread over `devices` tablets, each tablet in
/// its own district, a third hosts or visitors of the P2P event.
pub fn roster(n: usize, devices: usize, rng: &mut Rng) -> Vec<Participant> {
    let mut counters = [0usize; 2];
    (0..n)
        .map(|i| {
            let device = i % devices;
            let district = device % DISTRICTS.len();
            let country = DISTRICTS[district].country;
            let c = usize::from(country == "bd");
            counters[c] += 1;
            let id = format!("{}-{:04}", country.to_uppercase(), counters[c]);
            let p2p = match i % 3 {
                0 => P2pRole::Host,
                1 => P2pRole::Visitor,
                _ => P2pRole::None,
            };
            let given = GIVEN[(i * 7 + c * 5) % GIVEN.len()];
            let family = FAMILY[(i * 3 + c * 5) % FAMILY.len()];
            let prefix = if country == "mz" { "+258 84" } else { "+880 17" };
            Participant {
                id,
                name: format!("{given} {family}"),
                phone: format!("{prefix} {:03} {:04}", rng.below(1000), rng.below(10_000)),
                district,
                device,
                p2p,
                ability: (1.6 + rng.unit() * 1.4).clamp(1.0, 4.0),
            }
        })
        .collect()
}
