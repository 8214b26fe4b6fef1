//! `bench --active-learning`: the labeling-round simulation of `ml::active` on the demo and on
//! a second generated set (another seed and frame size), three seeds each.

use crate::ml::active::{self, Cell, Plan};
use crate::ml::device::ComputeDevice;
use crate::ml::uncertainty::Strategy;
use crate::project::demo::{self, DemoOptions};
use anyhow::Result;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct ActiveLearningBench {
    pub plan: Plan,
    pub datasets: Vec<Dataset>,
}

#[derive(Debug, Serialize)]
pub struct Dataset {
    pub name: String,
    pub table: Vec<Cell>,
    /// At the last round: our mean test Dice minus random's, and whether that is more than
    /// the seeds' spread (the larger of the two standard deviations).
    pub ours_minus_random_dice: f64,
    pub ours_minus_random_cl_dice: f64,
    pub beats_random: bool,
}

pub fn run(device: &ComputeDevice, progress: &mut dyn FnMut(&str)) -> Result<ActiveLearningBench> {
    let plan = Plan {
        seeds: vec![1, 2, 3],
        start: 10,
        per_round: 10,
        rounds: 3,
        recipe: "mu_net".into(),
        image_size: 96,
        epochs: 8,
    };
    let sets = [
        (
            "demo (240 frames, 320x180, seed 42)",
            42u64,
            (320u32, 180u32),
        ),
        ("second set (240 frames, 384x216, seed 7)", 7, (384, 216)),
    ];
    let mut datasets = Vec::new();
    for (name, seed, (width, height)) in sets {
        let dir = tempfile::tempdir()?;
        let source = dir.path().join("source");
        demo::generate(
            &source,
            &DemoOptions {
                images: 240,
                seed,
                width,
                height,
            },
            &mut |_, _| {},
        )?;
        let outcomes =
            active::simulate(&source, &dir.path().join("work"), &plan, device, &mut |m| {
                progress(&format!("{name}: {m}"))
            })?;
        let table = active::table(&outcomes);
        let last = |s: Strategy| {
            table
                .iter()
                .filter(|c| c.strategy == s)
                .max_by_key(|c| c.labeled)
                .cloned()
        };
        let (ours, random) = (last(Strategy::Ours), last(Strategy::Random));
        let (dd, dc, beats) = match (ours, random) {
            (Some(o), Some(r)) => (
                o.dice_mean - r.dice_mean,
                o.cl_dice_mean - r.cl_dice_mean,
                o.dice_mean - r.dice_mean > o.dice_sd.max(r.dice_sd),
            ),
            _ => (0.0, 0.0, false),
        };
        datasets.push(Dataset {
            name: name.into(),
            table,
            ours_minus_random_dice: dd,
            ours_minus_random_cl_dice: dc,
            beats_random: beats,
        });
    }
    Ok(ActiveLearningBench { plan, datasets })
}

pub fn print(a: &ActiveLearningBench) {
    println!(
        "\nLabeling rounds ({} labeled nerve frames, +{} a round, {} rounds, {} at {} px, {} epochs, seeds {:?}); test Dice / clDice, mean ± sd:",
        a.plan.start,
        a.plan.per_round,
        a.plan.rounds,
        a.plan.recipe,
        a.plan.image_size,
        a.plan.epochs,
        a.plan.seeds
    );
    for d in &a.datasets {
        println!("  {}", d.name);
        for c in &d.table {
            println!(
                "    {:<20} {:>3} labeled  Dice {:.3} ± {:.3}  clDice {:.3} ± {:.3}",
                format!("{:?}", c.strategy),
                c.labeled,
                c.dice_mean,
                c.dice_sd,
                c.cl_dice_mean,
                c.cl_dice_sd
            );
        }
        println!(
            "    ours − random at the last round: Dice {:+.3}, clDice {:+.3} ({})",
            d.ours_minus_random_dice,
            d.ours_minus_random_cl_dice,
            if d.beats_random {
                "more than the seeds' spread"
            } else {
                "within the seeds' spread: not shown better"
            }
        );
    }
}
