// SPDX-License-Identifier: GPL-2.0-only
/*
 * anpu.ko bus glue for the virtual platform: the ANPU behind QEMU's
 * ivshmem-doorbell device (1af4:1110). BAR0 holds ivshmem's registers
 * (Doorbell), BAR2 the ANPU (register page + device memory); MSI-X vector i
 * is ANPU interrupt i. Other ivshmem devices (no ANPU magic) are left alone.
 */

#include <linux/log2.h>
#include <linux/pci.h>

#include "anpu_drv.h"

#define PCI_VENDOR_ID_IVSHMEM		PCI_VENDOR_ID_REDHAT_QUMRANET
#define PCI_DEVICE_ID_IVSHMEM		0x1110
#define IVSHMEM_BAR_REGS		0
#define IVSHMEM_BAR_SHM			2

static const struct {
	unsigned int vector;
	irq_handler_t handler;
	irq_handler_t thread;
	const char *name;
} anpu_irqs[] = {
	{ ANPU_IRQ_JOB, anpu_hw_irq_job, anpu_hw_irq_job_thread, "anpu-job" },
	{ ANPU_IRQ_ERROR, anpu_hw_irq_error, NULL, "anpu-error" },
	{ ANPU_IRQ_CTRL, anpu_hw_irq_ctrl, NULL, "anpu-ctrl" },
};

static int anpu_pci_setup_irqs(struct pci_dev *pdev, struct anpu_device *adev)
{
	int ret;

	/* managed: released with the device (pcim_enable_device) */
	ret = pci_alloc_irq_vectors(pdev, ANPU_HW_NUM_VECTORS, ANPU_HW_NUM_VECTORS,
				    PCI_IRQ_MSIX);
	if (ret < 0)
		return dev_err_probe(&pdev->dev, ret, "cannot get %u MSI-X vectors\n",
				     ANPU_HW_NUM_VECTORS);
	for (unsigned int i = 0; i < ARRAY_SIZE(anpu_irqs); i++) {
		ret = devm_request_threaded_irq(&pdev->dev,
						pci_irq_vector(pdev, anpu_irqs[i].vector),
						anpu_irqs[i].handler, anpu_irqs[i].thread,
						0, anpu_irqs[i].name, &adev->hw);
		if (ret)
			return dev_err_probe(&pdev->dev, ret, "cannot request IRQ %s\n",
					     anpu_irqs[i].name);
	}
	return 0;
}

/*
 * Each failing step says which it was: the PCI core's own errnos are not
 * distinctive (a failed allocation while mapping a BAR is -EINVAL, one in a
 * region request -EBUSY).
 */
static int anpu_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	resource_size_t bar_start, bar_size;
	void __iomem *db, *regs, *karea;
	struct device *dev = &pdev->dev;
	struct anpu_device *adev;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return dev_err_probe(dev, ret, "cannot enable the PCI device\n");

	bar_start = pci_resource_start(pdev, IVSHMEM_BAR_SHM);
	bar_size = pci_resource_len(pdev, IVSHMEM_BAR_SHM);
	if (bar_size < ANPU_BAR_MIN_SIZE || bar_size > ANPU_BAR_MAX_SIZE ||
	    !is_power_of_2(bar_size)) {
		dev_info(dev, "not an ANPU (BAR2 of %pa bytes)\n", &bar_size);
		return -ENODEV;
	}

	db = pcim_iomap_region(pdev, IVSHMEM_BAR_REGS, ANPU_DRIVER_NAME);
	if (IS_ERR(db))
		return dev_err_probe(dev, PTR_ERR(db), "cannot map BAR%d (doorbell)\n",
				     IVSHMEM_BAR_REGS);
	ret = pcim_request_region(pdev, IVSHMEM_BAR_SHM, ANPU_DRIVER_NAME);
	if (ret)
		return dev_err_probe(dev, ret, "cannot request BAR%d\n", IVSHMEM_BAR_SHM);
	/* registers uncached; device memory (the rest of BAR2) write-combined */
	regs = pcim_iomap_range(pdev, IVSHMEM_BAR_SHM, 0, ANPU_REG_PAGE_SIZE);
	if (IS_ERR(regs))
		return dev_err_probe(dev, PTR_ERR(regs), "cannot map the register page\n");
	karea = devm_ioremap_wc(dev, bar_start + ANPU_DEVMEM_BASE,
				bar_size - ANPU_DEVMEM_BASE);
	if (!karea)
		return dev_err_probe(dev, -ENOMEM, "cannot map device memory\n");

	adev = anpu_device_alloc(dev);
	if (IS_ERR(adev))
		return dev_err_probe(dev, PTR_ERR(adev), "cannot allocate the DRM device\n");
	pci_set_drvdata(pdev, adev);
	adev->devmem_phys = bar_start + ANPU_DEVMEM_BASE;

	/* logs its own reasons (a foreign ivshmem device is only "not an ANPU") */
	ret = anpu_hw_probe(&adev->hw, dev, db, regs, karea, bar_size);
	if (ret)
		return ret;

	/* MSI-X messages are bus-master writes */
	pci_set_master(pdev);
	ret = anpu_pci_setup_irqs(pdev, adev);
	if (ret)
		return ret;

	ret = anpu_device_register(adev);
	if (ret)
		return dev_err_probe(dev, ret, "cannot register the DRM device\n");
	return 0;
}

static void anpu_pci_remove(struct pci_dev *pdev)
{
	anpu_device_unregister(pci_get_drvdata(pdev));
}

static const struct pci_device_id anpu_pci_ids[] = {
	{ PCI_DEVICE(PCI_VENDOR_ID_IVSHMEM, PCI_DEVICE_ID_IVSHMEM) },
	{ }
};
MODULE_DEVICE_TABLE(pci, anpu_pci_ids);

static struct pci_driver anpu_pci_driver = {
	.name = ANPU_DRIVER_NAME,
	.id_table = anpu_pci_ids,
	.probe = anpu_pci_probe,
	.remove = anpu_pci_remove,
	.driver.pm = pm_ptr(&anpu_pm_ops),
};

int anpu_pci_register(void)
{
	return pci_register_driver(&anpu_pci_driver);
}

void anpu_pci_unregister(void)
{
	pci_unregister_driver(&anpu_pci_driver);
}
