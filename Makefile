# The two commands of the README, plus a few conveniences.
.PHONY: demo test cluster-up cluster-down crds

demo:          ## build what is missing, start cluster + operator, run the demo job
	bash hack/demo.sh

test:          ## run the whole test suite (unit + e2e on a real control plane)
	bash hack/test.sh

cluster-up:
	bash hack/cluster.sh up

cluster-down:
	bash hack/cluster.sh down

crds:          ## regenerate crds/ from the pydantic models
	bash -c 'source hack/venv.sh && kubatch crds'
