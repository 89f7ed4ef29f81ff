#!/usr/bin/env python3
"""PyTorch's training step alone, for a side-by-side with scripts/benchmark-step.sh: the teaching MLP (784-256-128-10,
ReLU, Adam 1e-3) on random data of batch B, one thread, 300 steps of warm-up, then the median of 7 rounds of 500
steps, and torch.autograd.profiler's table of 200 more. Needs Debian's python3-torch (run with /usr/bin/python3).

Usage: /usr/bin/python3 scripts/lib/torch_step.py BATCH
"""
import torch, time, sys
torch.set_num_threads(1)
B=int(sys.argv[1])
m=torch.nn.Sequential(torch.nn.Linear(784,256),torch.nn.ReLU(),torch.nn.Linear(256,128),torch.nn.ReLU(),torch.nn.Linear(128,10))
opt=torch.optim.Adam(m.parameters(),lr=1e-3)
x=torch.randn(B,784); y=torch.randint(0,10,(B,))
lf=torch.nn.CrossEntropyLoss()
def step():
    opt.zero_grad(); l=lf(m(x),y); l.backward(); opt.step()
for _ in range(300): step()
res=[]
for r in range(7):
    t=time.perf_counter()
    for _ in range(500): step()
    res.append((time.perf_counter()-t)/500*1e3)
res.sort(); print(f"torch mlp batch {B}: {res[3]:.3f} ms a step (median of 7 rounds of 500; fastest {res[0]:.3f})")
with torch.autograd.profiler.profile() as prof:
    for _ in range(200): step()
print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=14))
